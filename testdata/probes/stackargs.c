/*
 * A function with more arguments than x86-64 passes in registers: g and h
 * go on the stack, where sarg0 and sarg1 read them (sarg_e2e_test.go).
 */
__attribute__((noinline)) long stackargs(long a, long b, long c, long d, long e, long f, long g, long h)
{
	return a + b + c + d + e + f + g + h;
}

int main(void)
{
	return stackargs(1, 2, 3, 4, 5, 6, 70, 80) == 171 ? 0 : 1;
}

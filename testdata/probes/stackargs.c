/*
 * A function with more arguments than x86-64 passes in registers: g and h
 * go on the stack, where sarg0 and sarg1 read them (sarg_e2e_test.go).
 *
 *   stackargs         calls stackargs(1, 2, 3, 4, 5, 6, 70, 80) and exits
 *   stackargs wait    the same, then waits for standard input to close, so
 *                     that its user stack can still be symbolized
 */
#include <unistd.h>

__attribute__((noinline)) long stackargs(long a, long b, long c, long d, long e, long f, long g, long h)
{
	return a + b + c + d + e + f + g + h;
}

int main(int argc, char **argv)
{
	long sum = stackargs(1, 2, 3, 4, 5, 6, 70, 80);
	if (argc > 1) {
		char c;
		while (read(0, &c, 1) > 0)
			;
	}
	return sum == 171 ? 0 : 1;
}

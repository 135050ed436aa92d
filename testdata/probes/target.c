/*
 * The program the uprobe tests trace (built with gcc by the tests).
 *
 *   target N         calls target(i, 2i, 3, 4, 5, 6) and atol("7") for i = 1..N
 *   target N wait    the same, once a byte arrives on standard input
 *   target N hold    the same, then prints the sum and waits for standard
 *                    input to close (the process is still there to be
 *                    symbolized when the tracer prints its stacks)
 *
 * target returns the sum of its arguments, 3i + 18; the program prints the
 * sum of what target returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline)) long target(long a, long b, long c, long d, long e, long f)
{
	return a + b + c + d + e + f;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	int hold = argc > 2 && strcmp(argv[2], "hold") == 0;
	if (argc > 2 && !hold) {
		char c;
		if (read(0, &c, 1) != 1)
			return 1;
	}
	long sum = 0;
	for (int i = 1; i <= n; i++) {
		sum += target(i, 2 * i, 3, 4, 5, 6);
		sum += atol("7") - 7;
	}
	printf("%ld\n", sum);
	if (hold) {
		char c;
		fflush(stdout);
		while (read(0, &c, 1) == 1)
			;
	}
	return 0;
}

#include <stdio.h>
#include <stdlib.h>

/* A minimal SystemTap SDT probe with two arguments, written out the way
 * <sys/sdt.h> does it, so the test needs no extra package. */
#define GT_PROBE2(provider, name, a1, a2)                                          \
	__asm__ __volatile__("990: nop\n"                                          \
			     ".pushsection .note.stapsdt,\"?\",\"note\"\n"         \
			     ".balign 4\n"                                         \
			     ".4byte 992f-991f, 994f-993f, 3\n"                    \
			     "991: .asciz \"stapsdt\"\n"                           \
			     "992: .balign 4\n"                                    \
			     "993: .8byte 990b\n"                                  \
			     ".8byte _.stapsdt.base\n"                             \
			     ".8byte 0\n"                                          \
			     ".asciz \"" #provider "\"\n"                          \
			     ".asciz \"" #name "\"\n"                              \
			     ".asciz \"-4@%0 8@%1\"\n"                             \
			     "994: .balign 4\n"                                    \
			     ".popsection\n"                                       \
			     ".ifndef _.stapsdt.base\n"                            \
			     ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n" \
			     ".weak _.stapsdt.base\n"                              \
			     ".hidden _.stapsdt.base\n"                            \
			     "_.stapsdt.base: .space 1\n"                          \
			     ".size _.stapsdt.base, 1\n"                           \
			     ".popsection\n"                                       \
			     ".endif\n" ::"nor"((int)(a1)), "nor"((long)(a2)))

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 3;
	for (int i = 0; i < n; i++) {
		long v = 1000 + i;
		GT_PROBE2(gotrace, tick, -i, v);
	}
	return 0;
}

#include <stdlib.h>
#include <unistd.h>

/* The target of the -l tests: two functions and three SystemTap SDT probes
 * of two providers (written out the way <sys/sdt.h> writes them, so no
 * extra package is needed). "listtarget wait" waits for a byte on standard
 * input, for -l -p. */
#define GT_PROBE(provider, name)                                                   \
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
			     ".asciz \"\"\n"                                       \
			     "994: .balign 4\n"                                    \
			     ".popsection\n"                                       \
			     ".ifndef _.stapsdt.base\n"                            \
			     ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n" \
			     ".weak _.stapsdt.base\n"                              \
			     ".hidden _.stapsdt.base\n"                            \
			     "_.stapsdt.base: .space 1\n"                          \
			     ".size _.stapsdt.base, 1\n"                           \
			     ".popsection\n"                                       \
			     ".endif\n")

int listfunc_one(int n)
{
	GT_PROBE(listprov, first);
	return n + 1;
}

int listfunc_two(int n)
{
	GT_PROBE(listprov, second);
	GT_PROBE(listprov2, second);
	return n * 2;
}

int main(int argc, char **argv)
{
	char c;
	if (argc > 1)
		read(0, &c, 1);
	return listfunc_two(listfunc_one(argc)) == 0;
}

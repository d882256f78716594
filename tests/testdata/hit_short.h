/*
 * hit_short.h: hit_short(1) adds 1 to the program's hits, and its first
 * instruction is 3 bytes long, shorter than a jump: a stub's jump over it
 * must end with the next instruction's first two bytes (mov %rdi,%rax is
 * 48 89 f8, and the movslq after it starts 48 63).
 */
void hit_short(long one);
__asm__(".text\n"
	".globl hit_short\n"
	".type hit_short, @function\n"
	"hit_short:\n"
	"	mov %rdi, %rax\n"
	"	movslq %eax, %rdx\n"
	"	add %rdx, hits(%rip)\n"
	"	ret\n"
	".size hit_short, .-hit_short\n");

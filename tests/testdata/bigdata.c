/*
 * bigdata.c: a program whose data segment holds 2 MiB, mapped and
 * readable from its first instruction on, for reads of a whole packet.
 * Most of the bytes are ones that a binary reply must escape ('}', '#',
 * '*'), so that the reply is as long on the wire as it can be.
 */
#define MIB (1 << 20)

unsigned char big[2 * MIB] = {
	[0 ... MIB / 2 - 1] = '}',
	[MIB / 2 ... MIB - 1] = 0x5a,
	[MIB ... 3 * MIB / 2 - 1] = '#',
	[3 * MIB / 2 ... 2 * MIB - 1] = '*',
};

int main(void)
{
	return big[0] == '}' ? 0 : 1;
}

/* berth: the entry point and command dispatch. */
#include <stdio.h>

int main(void)
{
	fputs("berth: no commands yet\n", stderr);
	return 1;
}

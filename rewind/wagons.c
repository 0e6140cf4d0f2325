/* wagons.c — srdf-rewind --to (being written). */
#include "log.h"
#include "rewind.h"

int
rewind_wagons(struct rwconf *cf)
{
	(void)cf;
	log_err("--to is not implemented yet");
	return EX_SOFTWARE;
}

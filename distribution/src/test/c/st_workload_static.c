/* st_workload built with -static (the build links every *_static.c statically). */
#include "st_workload.c"

#ifndef __RESOURCE_volact_H__
#define __RESOURCE_volact_H__

#include <gio/gio.h>

extern GResource *volact_get_resource (void);
#endif

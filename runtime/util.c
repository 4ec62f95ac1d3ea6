/* placeholder until the runtime lands */
#include "rnrt.h"

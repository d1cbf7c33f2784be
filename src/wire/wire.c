/*
 * Texts for the wire layer's refusal reasons, generated from the same
 * X-macro as the enum so the two cannot drift apart.
 */
#include "wire.h"

const char *wire_strerror(int err)
{
    static const char *const texts[] = {[WIRE_ERROR_NONE] = "no error",
#define WIRE_TEXT_(name, text) [name] = text,
                                        WIRE_ERRORS(WIRE_TEXT_)
#undef WIRE_TEXT_
    };
    /* Callers hold the negative return value; accept either sign. */
    if (err < 0)
        err = -err;
    if (err >= WIRE_ERROR_COUNT)
        return "unknown wire error";
    return texts[err];
}

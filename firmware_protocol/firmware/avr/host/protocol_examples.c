/* The frames of PROTOCOL.md section 1.7, built by the firmware's own encoders
   (src/st_proto.c), for the tests to compare with the document byte for byte.
   stdout: "name: hex bytes" per example. */
#include <stdio.h>
#include <string.h>

#include "../src/st_proto.h"

static void show(const char *name, const uint8_t *p, size_t n)
{
    printf("%s:", name);
    for (size_t i = 0; i < n; i++) printf(" %02x", p[i]);
    printf("\n");
}

static st_channel_t ch(uint8_t status, int16_t centi, uint32_t deci)
{
    st_channel_t c = {status, centi, deci};
    return c;
}

int main(void)
{
    uint8_t out[ST_MAX_ENCODED];
    st_channel_t two[2];
    show("hello-at-boot", out, st_encode_hello(out, 0, 0, 2, 1000, "ST-0042", "1.2.0", "YSI-400"));
    two[0] = ch(ST_OK, 3125, ST_NO_RESISTANCE); two[1] = ch(ST_OK, 3098, ST_NO_RESISTANCE);
    show("sample-temperatures", out, st_encode_sample(out, 1, 1000, 2, two));
    two[0] = ch(ST_OK, 3127, 17204); two[1] = ch(ST_OK, 3097, 17424);
    show("sample-temperature-and-resistance", out, st_encode_sample(out, 2, 2000, 2, two));
    two[0] = ch(ST_OK, ST_NO_TEMPERATURE, 17204); two[1] = ch(ST_OK, ST_NO_TEMPERATURE, 17424);
    show("sample-resistance-only", out, st_encode_sample(out, 3, 3000, 2, two));
    two[0] = ch(ST_OK, 3130, ST_NO_RESISTANCE); two[1] = ch(ST_OPEN_CIRCUIT, ST_NO_TEMPERATURE, ST_NO_RESISTANCE);
    show("sample-right-probe-open", out, st_encode_sample(out, 4, 4000, 2, two));
    two[0] = ch(ST_OK, 3350, ST_NO_RESISTANCE); two[1] = ch(ST_OK, 3200, ST_NO_RESISTANCE);
    show("sample-last-before-wrap", out, st_encode_sample(out, 65535, 65535000ul, 2, two));
    char line[32];
    st_channel_t l = ch(ST_OK, 3125, ST_NO_RESISTANCE), r = ch(ST_OK, 3098, ST_NO_RESISTANCE);
    size_t n = st_encode_text(line, &l, &r);
    printf("text-with-crc: %.*s\n", (int)(n - 2), line);
    l = ch(ST_OK, 3350, ST_NO_RESISTANCE); r = ch(ST_OK, 3200, ST_NO_RESISTANCE);
    n = st_encode_text(line, &l, &r);
    printf("text-with-crc: %.*s\n", (int)(n - 2), line);
    return 0;
}

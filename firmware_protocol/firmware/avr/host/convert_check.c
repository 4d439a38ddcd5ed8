/* The firmware's fixed-point conversion (src/convert.c), compiled for the host so the tests
   can hold it against the host's double-precision thermistor model over the whole range.
   stdin: lines "SUM SERIES_DECI_OHM A_Q39 B_Q42 C_Q50"; stdout: "STATUS CENTI_C DECI_OHM". */
#include <inttypes.h>
#include <stdio.h>

#include "../src/convert.h"

int main(void)
{
    unsigned long sum, rs;
    long a, b, c;
    while (scanf("%lu %lu %ld %ld %ld", &sum, &rs, &a, &b, &c) == 5) {
        st_curve_t curve = {(uint32_t)rs, (int32_t)a, (int32_t)b, (int32_t)c};
        st_channel_t out;
        st_convert((uint32_t)sum, &curve, &out);
        printf("%u %d %" PRIu32 "\n", out.status, out.centi_celsius, out.deci_ohm);
    }
    return 0;
}

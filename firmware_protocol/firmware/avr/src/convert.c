/* Fixed-point thermistor conversion. See convert.h for the formats.

   The divider gives S = F * Rt / (Rs + Rt) (F = SUM_FULL_SCALE), so
       Rt = Rs * S / (F - S)   and   ln Rt = ln Rs + ln S - ln(F - S),
   three logarithms of exact integers, so no resistance is rounded before the curve is
   applied. Every step keeps its error below 1e-5 K (measured against the host's double
   precision conversion by host/convert_check.c in the tests). */
#include "convert.h"

#define LN2_Q32   2977044472ul       /* ln 2 * 2^32 */
#define LN10_Q24  38630967l          /* ln 10 * 2^24 */
#define KELVIN_MILLI 273150l

/* log2(x) in Q24, x >= 1: the integer part from the top bit, then 24 fraction bits by
   repeated squaring of the mantissa m in [1, 2) (each square >= 2 is one bit of 1). */
static int32_t log2_q24(uint32_t x)
{
    int8_t e = 31;
    while (!(x & 0x80000000ul)) { x <<= 1; e--; }
    uint32_t m = x;  /* Q31: m / 2^31 in [1, 2) */
    int32_t result = (int32_t)e << 24;
    for (uint8_t i = 0; i < 24; i++) {
        uint64_t sq = (uint64_t)m * m;  /* Q62, in [2^62, 2^64) */
        if (sq & 0x8000000000000000ull) {
            m = (uint32_t)(sq >> 32);
            result |= (int32_t)1 << (23 - i);
        } else {
            m = (uint32_t)(sq >> 31);
        }
    }
    return result;
}

int32_t st_ln_q24(uint32_t x)
{
    return (int32_t)(((int64_t)log2_q24(x) * (int64_t)LN2_Q32) >> 32);
}

/* 1/T in Q48 (1/K) from L = ln(R/ohm) in Q24. */
static int64_t inverse_kelvin_q48(int32_t l_q24, const st_curve_t *c)
{
    int64_t l2_q24 = ((int64_t)l_q24 * l_q24) >> 24;
    int64_t l3_q12 = (l2_q24 * l_q24) >> 36;
    return ((int64_t)c->a_q39 << 9)
         + (((int64_t)c->b_q42 * l_q24) >> 18)
         + (((int64_t)c->c_q50 * l3_q12) >> 14);
}

static uint32_t deci_ohm(uint32_t sum, uint32_t series_deci_ohm)
{
    uint32_t rest = SUM_FULL_SCALE - sum;
    uint64_t r = ((uint64_t)series_deci_ohm * sum + rest / 2) / rest;
    return r >= ST_NO_RESISTANCE ? ST_NO_RESISTANCE - 1 : (uint32_t)r;
}

void st_convert(uint32_t sum, const st_curve_t *curve, st_channel_t *out)
{
    out->centi_celsius = ST_NO_TEMPERATURE;
    out->deci_ohm = ST_NO_RESISTANCE;
    if (sum >= OPEN_SUM_MIN) { out->status = ST_OPEN_CIRCUIT; return; }
    if (sum <= SHORT_SUM_MAX) { out->status = ST_SHORT_CIRCUIT; return; }
    out->deci_ohm = deci_ohm(sum, curve->series_deci_ohm);
    int32_t l_q24 = st_ln_q24(curve->series_deci_ohm) - LN10_Q24
                  + st_ln_q24(sum) - st_ln_q24(SUM_FULL_SCALE - sum);
    int64_t y = inverse_kelvin_q48(l_q24, curve);
    if (y <= 0) { out->status = ST_OUT_OF_RANGE; return; }  /* the curve has no temperature here */
    /* T in units of 0.1 mK, rounded (2.8e18 < 2^63), then to 0.01 degC, halves away from 0 */
    int64_t tenth_milli_c = (((int64_t)10000 << 48) + y / 2) / y - 10 * KELVIN_MILLI;
    int32_t centi = (int32_t)((tenth_milli_c >= 0 ? tenth_milli_c + 50 : tenth_milli_c - 50) / 100);
    if (centi < OPEN_BELOW_CENTI) { out->status = ST_OPEN_CIRCUIT; return; }
    if (centi > SHORT_ABOVE_CENTI) { out->status = ST_SHORT_CIRCUIT; return; }
    out->centi_celsius = (int16_t)centi;
    out->status = (centi < RATED_LOW_CENTI || centi > RATED_HIGH_CENTI) ? ST_OUT_OF_RANGE : ST_OK;
}

/* ADC sums -> resistance and temperature, in fixed point (no floating point on the AVR).
   Portable C99: the host test program (host/convert_check.c) links the same file. */
#ifndef ST_CONVERT_H
#define ST_CONVERT_H

#include <stdint.h>

#include "st_proto.h"

/* Oversampling: OVERSAMPLE conversions of 10 bits are summed per channel and frame.
   64 = 4^3 gives 3 extra bits (13 effective) when the input carries >= 0.5 LSB of noise.
   The sum S then spans 0 .. 64 * 1023, and the ideal S of a ratio x = Rt / (Rs + Rt) is
   SUM_FULL_SCALE * x. */
#define OVERSAMPLE      64
#define SUM_FULL_SCALE  (OVERSAMPLE * 1024ul)

/* The thermistor curve of one channel, as stored in EEPROM (config.h):
   Steinhart-Hart 1/T = A + B ln R + C (ln R)^3, T in kelvin, R in ohm. A beta model is the
   same with A = 1/T0 - ln(R0)/beta, B = 1/beta, C = 0. Fixed-point scales (value * 2^q):
   A in Q39 (|A| < 3.9e-3), B in Q42 (|B| < 4.8e-4, i.e. beta > 2048 K), C in Q50 (|C| < 1.9e-6). */
typedef struct {
    uint32_t series_deci_ohm;  /* the divider's series resistor Rs, in 0.1 ohm, as measured */
    int32_t  a_q39;
    int32_t  b_q42;
    int32_t  c_q50;
} st_curve_t;

/* Fault and range limits of this probe, in 0.01 degC. A conversion colder than
   OPEN_BELOW is an open circuit, hotter than SHORT_ABOVE a short (the host's own limits);
   outside the rated range it is sent with status "out of range". */
#define OPEN_BELOW_CENTI   (-4000)
#define SHORT_ABOVE_CENTI  12500
#define RATED_LOW_CENTI    0
#define RATED_HIGH_CENTI   5000
/* Sums this close to a rail are a broken lead whatever the curve says: an average code
   of 1022.5 or more (Rt > 800 * Rs) is open, 1 or less (Rt < Rs / 1000) is shorted. */
#define OPEN_SUM_MIN       (OVERSAMPLE * 10225ul / 10)
#define SHORT_SUM_MAX      (OVERSAMPLE * 1ul)

/* ln(x) in Q24 for x >= 1. */
int32_t st_ln_q24(uint32_t x);

/* One channel's reading from its ADC sum: status, temperature and resistance. */
void st_convert(uint32_t sum, const st_curve_t *curve, st_channel_t *out);

#endif

/* The probe's per-unit configuration, kept in EEPROM at address 0: its serial number (the
   hello's device_id, and the USB-serial chip's iSerialNumber should match it), the probe
   model, the boot protocol, and per channel the divider resistor and thermistor curve.

   Written once per unit (tools/avr-probe eeprom ... > unit.eep; avrdude -U eeprom:w:unit.eep:i).
   The host's calibration is NOT written back here: it stays in the host, stored per
   device_id and channel and recorded in every session (PROTOCOL.md section 1.9).
   Portable C99: the harness and the EEPROM image writer share this layout. */
#ifndef ST_CONFIG_H
#define ST_CONFIG_H

#include <stdint.h>

#include "convert.h"

#define ST_CONFIG_LAYOUT  1
#define ST_SERIAL_LEN     16
#define ST_MODEL_LEN      16

enum { ST_PROTO_BINARY = 0, ST_PROTO_TEXT = 1 };

typedef struct __attribute__((packed)) {
    uint8_t    layout;                      /* ST_CONFIG_LAYOUT */
    char       serial[ST_SERIAL_LEN + 1];   /* NUL-terminated ASCII, e.g. "ST-0042" */
    char       probe_model[ST_MODEL_LEN + 1]; /* e.g. "YSI-400" (PROTOCOL.md section 1.5) */
    uint8_t    protocol;                    /* ST_PROTO_BINARY or ST_PROTO_TEXT at boot */
    st_curve_t channel[2];                  /* 0 = left foot, 1 = right foot */
    uint16_t   crc;                         /* CRC-16/CCITT-FALSE of every byte above */
} st_config_t;

/* The public YSI 400 Steinhart-Hart set (A = 1.4733e-3, B = 2.372e-4, C = 1.074e-7) in
   the fixed-point scales of convert.h, and the 1650 ohm divider resistor. */
#define ST_YSI400_A_Q39  809955241l
#define ST_YSI400_B_Q42  1043216632l
#define ST_YSI400_C_Q50  120921650l
#define ST_YSI400_RS_DECI 16500ul

#endif

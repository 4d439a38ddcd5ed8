/* SympaTherm serial protocol v1 (firmware_protocol/PROTOCOL.md): frames, CRC, COBS and
   the text line, as the probe sends them. Portable C99 with no allocation and no I/O, so
   the same file is linked into the AVR firmware and into the host-side example checker
   (host/protocol_examples.c) that the tests compare with PROTOCOL.md byte for byte. */
#ifndef ST_PROTO_H
#define ST_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define ST_VERSION           1
#define ST_HELLO             0x01
#define ST_SAMPLE            0x02
#define ST_IDENTITY_REQUEST  0x10
#define ST_NO_TEMPERATURE    ((int16_t)-32768) /* s16 0x8000 */
#define ST_NO_RESISTANCE     0xFFFFFFFFul
#define ST_MAX_TEXT          32                /* bytes per hello string */
/* Largest frame this probe builds: a hello with three 32-byte strings is 8 + 5 + 3 * 33
   = 112 payload bytes, + 2 CRC, + 1 COBS code, + 1 delimiter. */
#define ST_MAX_PAYLOAD       114
#define ST_MAX_ENCODED       (ST_MAX_PAYLOAD + 2)
#define ST_RX_MAX            32  /* the only frame a host sends is 12 bytes long */

/* Status codes, in the host's order (PROTOCOL.md section 1.4): never reorder. */
enum { ST_OK, ST_OPEN_CIRCUIT, ST_SHORT_CIRCUIT, ST_OUT_OF_RANGE, ST_ADC_SATURATED, ST_NOT_ATTACHED };

typedef struct {
    uint8_t  status;         /* ST_OK ... ST_NOT_ATTACHED */
    int16_t  centi_celsius;  /* 0.01 degC, or ST_NO_TEMPERATURE */
    uint32_t deci_ohm;       /* 0.1 ohm, or ST_NO_RESISTANCE */
} st_channel_t;

uint16_t st_crc16(const uint8_t *p, size_t n);
size_t st_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst);

/* Each encoder writes the complete frame, delimiter included, into out (room for
   ST_MAX_ENCODED bytes) and returns its length. */
size_t st_encode_sample(uint8_t *out, uint16_t seq, uint32_t ms, uint8_t n, const st_channel_t *ch);
size_t st_encode_hello(uint8_t *out, uint16_t seq, uint32_t ms, uint8_t channels, uint32_t rate_millihz,
                       const char *device_id, const char *firmware, const char *probe_model);

/* The text protocol (PROTOCOL.md section 2): "31.25,30.98*C918\r\n", left first, with the
   CRC. A faulty channel prints -99.00 (open: the host reads <= -40 as open) or 150.00
   (short: >= 125). out needs room for 32 bytes; returns the length. */
size_t st_encode_text(char *out, const st_channel_t *left, const st_channel_t *right);

/* Receive path: feed every byte from the host. Returns 1 when the byte completed a valid
   identity request (the caller then sends a hello), 0 otherwise. Never blocks; anything
   it does not understand is ignored. */
typedef struct {
    uint8_t buf[ST_RX_MAX];
    uint8_t len;
    uint8_t overflow;
} st_rx_t;
int st_rx_byte(st_rx_t *rx, uint8_t b);

#endif

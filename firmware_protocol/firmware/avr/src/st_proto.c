/* SympaTherm serial protocol v1, the probe's side. See st_proto.h. The CRC and COBS
   routines are PROTOCOL.md section 1.2's, the encoders follow section 1.10. */
#include "st_proto.h"

#include <string.h>

uint16_t st_crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    while (n--) {
        crc ^= (uint16_t)(*p++) << 8;
        for (uint8_t i = 0; i < 8; i++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

size_t st_cobs_encode(const uint8_t *src, size_t n, uint8_t *dst)
{
    size_t code_at = 0, out = 1;
    uint8_t code = 1;
    for (size_t i = 0; i < n; i++) {
        if (src[i] == 0) {
            dst[code_at] = code; code_at = out++; code = 1;
        } else {
            dst[out++] = src[i];
            if (++code == 0xFF) { dst[code_at] = code; code_at = out++; code = 1; }
        }
    }
    dst[code_at] = code;
    return out;
}

static size_t put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); return 2; }

static size_t put_u32(uint8_t *p, uint32_t v)
{
    for (uint8_t i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
    return 4;
}

static size_t put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    if (n > ST_MAX_TEXT) n = ST_MAX_TEXT;
    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return n + 1;
}

static size_t put_header(uint8_t *p, uint8_t type, uint16_t seq, uint32_t ms)
{
    p[0] = ST_VERSION; p[1] = type;
    put_u16(p + 2, seq); put_u32(p + 4, ms);
    return 8;
}

/* CRC high byte first, COBS, then the 0x00 delimiter. payload needs room for n + 2. */
static size_t finish(uint8_t *payload, size_t n, uint8_t *out)
{
    uint16_t crc = st_crc16(payload, n);
    payload[n] = (uint8_t)(crc >> 8);
    payload[n + 1] = (uint8_t)crc;
    size_t m = st_cobs_encode(payload, n + 2, out);
    out[m] = 0x00;
    return m + 1;
}

size_t st_encode_sample(uint8_t *out, uint16_t seq, uint32_t ms, uint8_t n, const st_channel_t *ch)
{
    uint8_t p[9 + 7 * 2 + 2];
    if (n > 2) n = 2;  /* this probe has two channels; the buffer is sized for them */
    size_t at = put_header(p, ST_SAMPLE, seq, ms);
    p[at++] = n;
    for (uint8_t i = 0; i < n; i++) {
        p[at++] = ch[i].status;
        at += put_u16(p + at, (uint16_t)ch[i].centi_celsius);
        at += put_u32(p + at, ch[i].deci_ohm);
    }
    return finish(p, at, out);
}

size_t st_encode_hello(uint8_t *out, uint16_t seq, uint32_t ms, uint8_t channels, uint32_t rate_millihz,
                       const char *device_id, const char *firmware, const char *probe_model)
{
    uint8_t p[ST_MAX_PAYLOAD];
    size_t at = put_header(p, ST_HELLO, seq, ms);
    p[at++] = channels;
    at += put_u32(p + at, rate_millihz);
    at += put_str(p + at, device_id);
    at += put_str(p + at, firmware);
    at += put_str(p + at, probe_model);
    return finish(p, at, out);
}

/* "-12.34" from hundredths, without printf (which would pull in 1.5 kB on the AVR). */
static size_t put_centi(char *out, int16_t centi)
{
    size_t at = 0;
    uint16_t v;
    if (centi < 0) { out[at++] = '-'; v = (uint16_t)(-(int32_t)centi); } else { v = (uint16_t)centi; }
    char digits[5];
    uint8_t n = 0;
    uint16_t whole = v / 100;
    do { digits[n++] = (char)('0' + whole % 10); whole /= 10; } while (whole);
    while (n) out[at++] = digits[--n];
    out[at++] = '.';
    out[at++] = (char)('0' + (v / 10) % 10);
    out[at++] = (char)('0' + v % 10);
    return at;
}

static int16_t text_value(const st_channel_t *ch)
{
    if (ch->status == ST_SHORT_CIRCUIT) return 15000;
    if (ch->status == ST_OK || ch->status == ST_OUT_OF_RANGE) {
        if (ch->centi_celsius != ST_NO_TEMPERATURE) return ch->centi_celsius;
    }
    return -9900;  /* open, saturated, not attached, or no temperature: the host's "open" */
}

size_t st_encode_text(char *out, const st_channel_t *left, const st_channel_t *right)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t at = put_centi(out, text_value(left));
    out[at++] = ',';
    at += put_centi(out + at, text_value(right));
    uint16_t crc = st_crc16((const uint8_t *)out, at);
    out[at++] = '*';
    for (int8_t shift = 12; shift >= 0; shift -= 4) out[at++] = hex[(crc >> shift) & 0xF];
    out[at++] = '\r';
    out[at++] = '\n';
    return at;
}

/* Undoes COBS; the decoded length, or 0 if the bytes are not valid COBS. */
static size_t cobs_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t room)
{
    size_t i = 0, out = 0;
    while (i < n) {
        uint8_t code = src[i++];
        if (code == 0 || i + code - 1 > n) return 0;
        for (uint8_t k = 1; k < code; k++) {
            if (out >= room) return 0;
            dst[out++] = src[i++];
        }
        if (code != 0xFF && i < n) {
            if (out >= room) return 0;
            dst[out++] = 0;
        }
    }
    return out;
}

static int is_identity_request(const uint8_t *frame, size_t n)
{
    uint8_t p[ST_RX_MAX];
    if (cobs_decode(frame, n, p, sizeof p) != 10) return 0;
    if (st_crc16(p, 8) != (uint16_t)((uint16_t)p[8] << 8 | p[9])) return 0;
    return p[0] == ST_VERSION && p[1] == ST_IDENTITY_REQUEST;
}

int st_rx_byte(st_rx_t *rx, uint8_t b)
{
    int asked = 0;
    if (b == 0x00) {
        asked = !rx->overflow && rx->len > 0 && is_identity_request(rx->buf, rx->len);
        rx->len = 0;
        rx->overflow = 0;
    } else if (rx->len < ST_RX_MAX) {
        rx->buf[rx->len++] = b;
    } else {
        rx->overflow = 1;
    }
    return asked;
}

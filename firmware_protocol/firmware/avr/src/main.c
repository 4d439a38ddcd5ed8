/* SympaTherm reference probe: two thermistors on an ATmega328P (16 MHz), protocol v1 at
   10 Hz over the UART (115200 8N1 to a USB-serial chip). Wiring and the accuracy budget:
   docs/reference-probe.md.

   Pins
     PC0/ADC0  left divider midpoint      PC1/ADC1  right divider midpoint
     PB0       excitation: drives the divider supply node, which is also AREF (ratiometric)
     PD2       DTR# from the USB-serial chip (low = a host has the port open), pulled up
     PB5       busy: high while a frame is converted and encoded (cycle measurement, LED)
     PD0/PD1   UART RX/TX

   No dynamic allocation (no malloc anywhere; every buffer is static or on the stack with
   a fixed size) and a 500 ms watchdog, reset once per main-loop turn. */
#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <string.h>
#include <util/atomic.h>
#include <util/delay.h>

#include "config.h"
#include "convert.h"
#include "st_proto.h"

#ifndef FW_VERSION
#define FW_VERSION "1.0.0"
#endif
#ifndef SAMPLE_PERIOD_MS
#define SAMPLE_PERIOD_MS 100u      /* 10 Hz */
#endif
/* -DST_PROTOCOL_FORCE=0 (binary) or 1 (text) fixes the protocol at build time; without it
   the EEPROM's choice is used, and a "PROTOCOL TEXT" / "PROTOCOL BINARY" line switches. */
#define EXCITATION_SETTLE_MS 2u    /* AREF node: 100 nF behind ~1.1 kohm, tau 0.11 ms */
#define DTR_HELLO_DELAY_MS  50u    /* hosts flush their input right after opening a port */
#define BAUD_UBRR ((F_CPU / 8 / 115200) - 1)   /* U2X: 16 -> 117647 baud, +2.1 % */

/* ---- watchdog off at reset (it stays armed after a watchdog reset) ---------------- */
uint8_t reset_cause __attribute__((section(".noinit")));
void early_init(void) __attribute__((naked, used, section(".init3")));
void early_init(void)
{
    reset_cause = MCUSR;
    MCUSR = 0;
    wdt_disable();
}

/* ---- clock: Timer1 CTC at 1 kHz ------------------------------------------------------ */
static volatile uint32_t clock_ms;
ISR(TIMER1_COMPA_vect) { clock_ms++; }

static uint32_t now_ms(void)
{
    uint32_t t;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { t = clock_ms; }
    return t;
}

static void clock_init(void)
{
    TCCR1A = 0;
    TCCR1B = _BV(WGM12) | _BV(CS11) | _BV(CS10);  /* CTC, clk/64 */
    OCR1A = F_CPU / 64 / 1000 - 1;
    TIMSK1 = _BV(OCIE1A);
}

/* ---- UART: interrupt-driven rings (sizes are powers of two) -------------------------- */
static volatile uint8_t tx_ring[256];
static volatile uint8_t tx_head, tx_tail;
static volatile uint8_t rx_ring[64];
static volatile uint8_t rx_head, rx_tail;

ISR(USART_RX_vect)
{
    uint8_t b = UDR0;
    uint8_t next = (uint8_t)((rx_head + 1) & 63);
    if (next != rx_tail) { rx_ring[rx_head] = b; rx_head = next; }  /* full: drop, never block */
}

ISR(USART_UDRE_vect)
{
    if (tx_head == tx_tail) { UCSR0B &= (uint8_t)~_BV(UDRIE0); return; }
    UDR0 = tx_ring[tx_tail];
    tx_tail++;
}

static void uart_init(void)
{
    UBRR0 = BAUD_UBRR;
    UCSR0A = _BV(U2X0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

static void uart_send(const uint8_t *p, uint16_t n)
{
    while (n--) {
        while ((uint8_t)(tx_head + 1) == tx_tail) wdt_reset();  /* ring full: the line drains it */
        tx_ring[tx_head] = *p++;
        ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { tx_head++; UCSR0B |= _BV(UDRIE0); }
    }
}

static int uart_take(uint8_t *b)
{
    if (rx_head == rx_tail) return 0;
    *b = rx_ring[rx_tail];
    rx_tail = (uint8_t)((rx_tail + 1) & 63);
    return 1;
}

/* ---- configuration ------------------------------------------------------------------- */
static st_config_t config;

static void config_load(void)
{
    eeprom_read_block(&config, (const void *)0, sizeof config);
    uint16_t crc = st_crc16((const uint8_t *)&config, offsetof(st_config_t, crc));
    if (config.layout == ST_CONFIG_LAYOUT && crc == config.crc
        && config.serial[ST_SERIAL_LEN] == 0 && config.probe_model[ST_MODEL_LEN] == 0)
        return;
    /* Blank or damaged EEPROM: run, but under a name no real unit has, so the host never
       files a calibration under a real probe's identity. */
    memset(&config, 0, sizeof config);
    strcpy(config.serial, "ST-UNSET");
    strcpy(config.probe_model, "YSI-400");
    for (uint8_t i = 0; i < 2; i++)
        config.channel[i] = (st_curve_t){ST_YSI400_RS_DECI, ST_YSI400_A_Q39, ST_YSI400_B_Q42, ST_YSI400_C_Q50};
}

/* ---- sampling ------------------------------------------------------------------------ */
/* rail[ch]: RAIL_TOP if any conversion read 0x3FF, RAIL_BOTTOM if any read 0. No reading in
   the rated range comes near either (YSI 400 at -40 degC is code 1002, at 125 degC code 48),
   so a rail inside a burst is a lead that opened or shorted while it was being sampled: the
   average of such a burst is no temperature. */
#define RAIL_TOP    1
#define RAIL_BOTTOM 2
static void sample_both(uint32_t sum[2], uint8_t rail[2])
{
    PORTB |= _BV(PB0);                       /* excitation on: thermistor current only now */
    _delay_ms(EXCITATION_SETTLE_MS);
    ADMUX = 0;                               /* REFS = 00: external AREF (the divider node) */
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);  /* 125 kHz ADC clock */
    ADCSRA |= _BV(ADSC);                     /* first conversion after enabling: discarded */
    while (ADCSRA & _BV(ADSC)) {}
    sum[0] = sum[1] = 0;
    rail[0] = rail[1] = 0;
    for (uint8_t i = 0; i < OVERSAMPLE; i++) {
        for (uint8_t ch = 0; ch < 2; ch++) { /* interleaved: both feet at the same moments */
            ADMUX = ch;
            ADCSRA |= _BV(ADSC);
            while (ADCSRA & _BV(ADSC)) {}
            uint16_t code = ADC;
            sum[ch] += code;
            if (code >= 1023) rail[ch] |= RAIL_TOP;
            if (code == 0) rail[ch] |= RAIL_BOTTOM;
        }
    }
    ADCSRA = 0;
    PORTB &= (uint8_t)~_BV(PB0);
}

/* ---- frames -------------------------------------------------------------------------- */
static uint16_t sequence;
static uint8_t protocol;
static uint8_t frame[ST_MAX_ENCODED];

static void send_hello(uint32_t ms, uint8_t flush_first)
{
    static const uint8_t delimiter = 0x00;   /* ends any partial frame (or text) the host holds */
    if (protocol != ST_PROTO_BINARY) return;
    if (flush_first) uart_send(&delimiter, 1);
    size_t n = st_encode_hello(frame, sequence++, ms, 2, 1000000ul / SAMPLE_PERIOD_MS,
                               config.serial, FW_VERSION, config.probe_model);
    uart_send(frame, (uint16_t)n);
}

static void send_banner(void)
{
    static const char head[] = "# SympaTherm reference probe ";
    uart_send((const uint8_t *)head, sizeof head - 1);
    uart_send((const uint8_t *)config.serial, (uint16_t)strlen(config.serial));
    uart_send((const uint8_t *)" " FW_VERSION " ", sizeof(FW_VERSION) + 1);
    uart_send((const uint8_t *)config.probe_model, (uint16_t)strlen(config.probe_model));
    uart_send((const uint8_t *)"\r\n", 2);
}

static void send_sample(uint32_t ms, const uint32_t sum[2], const uint8_t rail[2])
{
    st_channel_t ch[2];
    PORTB |= _BV(PB5);
    for (uint8_t i = 0; i < 2; i++) {
        st_convert(sum[i], &config.channel[i], &ch[i]);
        if (rail[i]) {
            ch[i].status = (rail[i] & RAIL_TOP) ? ST_OPEN_CIRCUIT : ST_SHORT_CIRCUIT;
            ch[i].centi_celsius = ST_NO_TEMPERATURE;
            ch[i].deci_ohm = ST_NO_RESISTANCE;
        }
    }
    if (protocol == ST_PROTO_BINARY) {
        size_t n = st_encode_sample(frame, sequence++, ms, 2, ch);
        uart_send(frame, (uint16_t)n);
    } else {
        size_t n = st_encode_text((char *)frame, &ch[0], &ch[1]);
        uart_send(frame, (uint16_t)n);
    }
    PORTB &= (uint8_t)~_BV(PB5);
}

/* ---- commands from the host ---------------------------------------------------------- */
static st_rx_t rx;
#ifndef ST_PROTOCOL_FORCE
static char line[20];
static uint8_t line_len;
static uint8_t line_bad;   /* this line held a byte no command has: ignore it whole */
#endif

/* Returns 1 when the host asked who we are. */
static int handle_byte(uint8_t b, uint8_t *switched)
{
    (void)switched;
    int asked = st_rx_byte(&rx, b);
#ifndef ST_PROTOCOL_FORCE
    if (b == '\r' || b == '\n') {
        line[line_len] = 0;
        uint8_t was = protocol;
        if (!line_bad && strcmp(line, "PROTOCOL TEXT") == 0) protocol = ST_PROTO_TEXT;
        if (!line_bad && strcmp(line, "PROTOCOL BINARY") == 0) protocol = ST_PROTO_BINARY;
        if (protocol != was) asked = *switched = 1;  /* say who we are: a hello, or the banner */
        line_len = 0;
        line_bad = 0;
    } else if (b >= ' ' && b < 0x7F && line_len < sizeof line - 1) {
        line[line_len++] = (char)b;
    } else {
        line_bad = 1;
    }
#endif
    return asked;
}

int main(void)
{
    DDRB = _BV(PB0) | _BV(PB5);
    PORTB = 0;
    DDRD = _BV(PD1);
    PORTD = _BV(PD2);          /* pull-up on DTR#: no host reads as "closed" */
    DIDR0 = _BV(ADC0D) | _BV(ADC1D);
    config_load();
#ifdef ST_PROTOCOL_FORCE
    protocol = ST_PROTOCOL_FORCE;
#else
    protocol = config.protocol == ST_PROTO_TEXT ? ST_PROTO_TEXT : ST_PROTO_BINARY;
#endif
    clock_init();
    uart_init();
    wdt_enable(WDTO_500MS);
    sei();

    if (protocol == ST_PROTO_BINARY) {
        send_hello(0, 1);
    } else {
        send_banner();
    }

    uint32_t next_sample = SAMPLE_PERIOD_MS;
    uint8_t dtr_was_open = !(PIND & _BV(PD2));
    uint32_t hello_at = 0;
    uint8_t hello_pending = 0;
    uint8_t switched = 0;      /* the protocol was just switched by a command */
    for (;;) {
        wdt_reset();
        uint8_t b;
        while (uart_take(&b))
            if (handle_byte(b, &switched)) { hello_pending = 1; hello_at = now_ms(); }
        uint8_t dtr_open = !(PIND & _BV(PD2));
        if (dtr_open && !dtr_was_open) { hello_pending = 1; hello_at = now_ms() + DTR_HELLO_DELAY_MS; }
        dtr_was_open = dtr_open;
        uint32_t now = now_ms();
        if (hello_pending && (int32_t)(now - hello_at) >= 0) {
            hello_pending = 0;
            if (protocol == ST_PROTO_BINARY) send_hello(now, switched); else send_banner();
            switched = 0;
        }
        if ((int32_t)(now - next_sample) >= 0) {
            uint32_t sum[2];
            uint8_t rail[2];
            uint32_t stamp = next_sample;    /* the device time is the sampling schedule's */
            sample_both(sum, rail);
            send_sample(stamp, sum, rail);
            next_sample += SAMPLE_PERIOD_MS;
            if ((int32_t)(now_ms() - next_sample) >= 0)  /* fell behind: skip, never burst */
                next_sample = now_ms() + SAMPLE_PERIOD_MS;
            continue;
        }
        set_sleep_mode(SLEEP_MODE_IDLE);
        sleep_mode();                        /* the 1 ms tick or a received byte wakes us */
    }
}

/* The reference probe in the loop: the real firmware .elf on simavr's ATmega328P, its
   ADC fed the divider voltages of a known temperature course, its UART on a pseudo-terminal.

     probe-harness FIRMWARE.elf [options]      serve; prints the pty path on stdout line 1
     probe-harness --write-eep FILE [options]  write the EEPROM image for avrdude and exit

   Options
     --course FILE     the temperature course (see below); default: 32.0 degC both feet
     --serial ID       the unit's serial number in EEPROM (default ST-0042)
     --model NAME      probe model in EEPROM (default YSI-400)
     --text            the EEPROM selects the text protocol at boot
     --series-ohm R    the divider resistor Rs written to EEPROM (default 1650)
     --actual-series-ohm R  the resistor actually fitted (default: as written)
     --dtr pin|reset|none   what the USB-serial chip's DTR# does when a host opens the
                       port: drive PD2 low (default), pulse RESET (Arduino auto-reset), nothing
     --noise-lsb S     rms noise at the ADC input in LSB (default 0.5; 0 = none)
     --seed N          noise seed (default 1)
     --speed X         simulated seconds per real second (default 1)
     --course-clock open|start  course time 0 = first port open (default) or harness start

   Course file: one point a line, "SECONDS LEFT RIGHT", each side a temperature in degC
   (linear between points), "open" or "short" (held until the next point); '#' comments.

   stdin commands: "reset" (pulse the chip's RESET pin), "quit". On exit a summary of
   measured cycles goes to stderr.

   simavr's ADC divides by 1023 and truncates, a real ATmega328P by 1024 and rounds (its
   ideal first transition is at 0.5 LSB), and simavr's ADC inputs are integers: so the
   harness speaks in units of 0.1 mV and hands simavr the voltage that makes its formula
   give the real chip's code. The AVCC and AREF voltages are set here, in the same units
   (simavr's AVR_MCU_VOLTAGES section macro is not used: it is known to be wrong). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sim_avr.h>
#include <sim_elf.h>
#include <avr_adc.h>
#include <avr_eeprom.h>
#include <avr_ioport.h>
#include <avr_uart.h>

#include "../src/config.h"
#include "../src/st_proto.h"

#define F_CPU_HZ     16000000.0
#define UNIT_V       1e-4          /* simavr voltages in units of 0.1 mV */
#define VCC_V        5.0
#define R_LIMIT      3900.0        /* VCC -> excitation pin -> R_LIMIT -> AREF node */
#define R_PIN        25.0          /* the port pin's output resistance when high */
#define R_AREF_IN    32000.0       /* ATmega328P AREF input resistance (datasheet, typical) */
#define KELVIN       273.15
#define NO_VALUE     1e300

/* ---- the course ---------------------------------------------------------------------- */
typedef struct { double t; double side[2]; } course_point_t;   /* side: degC, or -1e9 open, +1e9 short */
#define OPEN_MARK  (-1e9)
#define SHORT_MARK (1e9)
static course_point_t course[4096];
static int course_len;

static double parse_side(const char *s, const char *file, int line)
{
    if (strcmp(s, "open") == 0) return OPEN_MARK;
    if (strcmp(s, "short") == 0) return SHORT_MARK;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < -50 || v > 150) {
        fprintf(stderr, "probe-harness: %s line %d: %s is not a temperature, open or short\n", file, line, s);
        exit(2);
    }
    return v;
}

static void load_course(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) { fprintf(stderr, "probe-harness: cannot read the course %s: %s\n", file, strerror(errno)); exit(2); }
    char buf[256], a[64], b[64];
    double t;
    int line = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        char *hash = strchr(buf, '#');
        if (hash) *hash = 0;
        if (sscanf(buf, " %63s", a) != 1) continue;
        if (sscanf(buf, "%lf %63s %63s", &t, a, b) != 3 || !isfinite(t)
            || (course_len && t < course[course_len - 1].t) || course_len >= (int)(sizeof course / sizeof *course)) {
            fprintf(stderr, "probe-harness: %s line %d: expected \"SECONDS LEFT RIGHT\" in time order\n", file, line);
            exit(2);
        }
        course[course_len].t = t;
        course[course_len].side[0] = parse_side(a, file, line);
        course[course_len].side[1] = parse_side(b, file, line);
        course_len++;
    }
    fclose(f);
    if (!course_len) { fprintf(stderr, "probe-harness: the course %s has no points\n", file); exit(2); }
}

static double course_at(double t, int side)
{
    if (t <= course[0].t) return course[0].side[side];
    for (int i = 1; i < course_len; i++) {
        if (t < course[i].t) {
            double a = course[i - 1].side[side], b = course[i].side[side];
            if (fabs(a) >= 1e8 || fabs(b) >= 1e8) return a;   /* faults are steps */
            double k = (t - course[i - 1].t) / (course[i].t - course[i - 1].t);
            return a + k * (b - a);
        }
    }
    return course[course_len - 1].side[side];
}

/* ---- the thermistor: YSI 400, the public Steinhart-Hart set -------------------------- */
static const double SH_A = 1.4733e-3, SH_B = 2.372e-4, SH_C = 1.074e-7;

static double thermistor_ohm(double celsius)
{
    if (celsius <= OPEN_MARK) return INFINITY;
    if (celsius >= SHORT_MARK) return 0.0;
    double y = 1.0 / (celsius + KELVIN), x = (y - SH_A) / SH_B;
    for (int i = 0; i < 50; i++) x -= (SH_A + SH_B * x + SH_C * x * x * x - y) / (SH_B + 3 * SH_C * x * x);
    return exp(x);
}

/* ---- the board's analogue side ------------------------------------------------------- */
static avr_t *avr;
static double series_ohm = 1650.0, actual_series_ohm = -1;
static double noise_lsb = 0.5;
static int excitation_on;
static double sim_s, course_zero_s = -1;   /* course time = sim_s - course_zero_s */
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static double uniform(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return ((rng >> 11) + 0.5) / 9007199254740992.0;
}

static double gaussian(void) { return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform()); }

static double parallel(double a, double b) { return isinf(a) ? b : isinf(b) ? a : a * b / (a + b); }

/* Sets AREF and both ADC inputs for the conversion that is starting now. */
static void drive_adc(void)
{
    double t = course_zero_s < 0 ? 0 : sim_s - course_zero_s;
    double rt[2] = {thermistor_ohm(course_at(t, 0)), thermistor_ohm(course_at(t, 1))};
    double rs = actual_series_ohm;
    double load = parallel(parallel(rs + rt[0], rs + rt[1]), R_AREF_IN);
    double node = excitation_on ? VCC_V * load / (R_PIN + R_LIMIT + load) : 0.0;
    uint32_t aref_units = node > UNIT_V ? (uint32_t)lround(node / UNIT_V) : 1;
    avr->aref = aref_units;
    for (int ch = 0; ch < 2; ch++) {
        double ratio = isinf(rt[ch]) ? 1.0 : rt[ch] / (rs + rt[ch]);
        double code = 1024.0 * ratio + noise_lsb * gaussian();      /* the real chip, in LSB */
        if (code > 1023.0) code = 1023.0;                            /* it saturates at 0x3FF */
        double v_units = (code + 0.5) / 1023.0 * aref_units;          /* what simavr must see */
        if (!excitation_on || v_units < 0) v_units = 0;
        if (v_units > 65535) v_units = 65535;
        avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + ch), (uint32_t)lround(v_units));
    }
}

static void on_adc_trigger(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq; (void)value; (void)param;
    drive_adc();
}

/* ---- cycle measurement: PB5 high while a frame is converted and encoded, PB0 high while
   the thermistors are excited and sampled ----------------------------------------------- */
typedef struct { avr_cycle_count_t since; uint64_t n, total, min, max; } span_t;
static span_t busy_span, burst_span;

static void span_edge(span_t *s, uint32_t level)
{
    if (level) { s->since = avr->cycle; return; }
    if (!s->since) return;
    uint64_t d = avr->cycle - s->since;
    s->since = 0;
    if (!s->n || d < s->min) s->min = d;
    if (d > s->max) s->max = d;
    s->n++; s->total += d;
}

static void on_pb5(avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)param; span_edge(&busy_span, value); }

static void on_pb0(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq; (void)param;
    excitation_on = value != 0;
    span_edge(&burst_span, value);
}

static void print_span(const char *what, const span_t *s)
{
    if (!s->n) { fprintf(stderr, "cycles %s: none measured\n", what); return; }
    fprintf(stderr, "cycles %s: n=%llu min=%llu mean=%llu max=%llu (%.3f ms at 16 MHz)\n", what,
            (unsigned long long)s->n, (unsigned long long)s->min, (unsigned long long)(s->total / s->n),
            (unsigned long long)s->max, s->max / F_CPU_HZ * 1000);
}

/* ---- UART <-> pseudo-terminal -------------------------------------------------------- */
static int master = -1;
static uint8_t out_buf[1 << 16];
static size_t out_len;
static uint8_t in_buf[4096];
static size_t in_len, in_done;
static int rx_xoff;
static unsigned long long bytes_dropped;

static void on_uart_out(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq; (void)param;
    if (out_len < sizeof out_buf) out_buf[out_len++] = (uint8_t)value; else bytes_dropped++;
}

static void on_xon(avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; rx_xoff = 0; }
static void on_xoff(avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; rx_xoff = 1; }

static void quiet_uart(void)
{
    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~AVR_UART_FLAG_STDIO;   /* simavr would print the frames on our stdout */
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
}

/* The host has the port open when the pty's slave side is open (no POLLHUP on the master). */
static int host_has_port(void)
{
    struct pollfd p = {master, POLLIN, 0};
    poll(&p, 1, 0);
    return !(p.revents & POLLHUP);
}

static void service_pty(int open)
{
    if (!open) { out_len = 0; in_len = in_done = 0; return; }  /* nobody listens: bytes are lost */
    if (out_len) {
        ssize_t n = write(master, out_buf, out_len);
        if (n > 0) { memmove(out_buf, out_buf + n, out_len - (size_t)n); out_len -= (size_t)n; }
    }
    if (in_done == in_len) {
        ssize_t n = read(master, in_buf, sizeof in_buf);
        in_len = n > 0 ? (size_t)n : 0;
        in_done = 0;
    }
    /* At most a few bytes per simulated millisecond: 115200 baud carries about 11. */
    for (int k = 0; k < 4 && in_done < in_len && !rx_xoff; k++)
        avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT), in_buf[in_done++]);
}

/* ---- the chip ------------------------------------------------------------------------ */
typedef enum { DTR_PIN, DTR_RESET, DTR_NONE } dtr_mode_t;
static dtr_mode_t dtr_mode = DTR_PIN;
static avr_cycle_count_t last_cycle;
static unsigned resets;

static void set_dtr_pin(int open)
{
    if (dtr_mode == DTR_PIN)
        avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 2), open ? 0 : 1);
}

static void reset_chip(int open)
{
    avr_reset(avr);
    quiet_uart();
    set_dtr_pin(open);
    last_cycle = avr->cycle;
    resets++;
}

static void logger(avr_t *a, const int level, const char *format, va_list ap)
{
    (void)a;
    if (level > LOG_WARNING) return;
    fputs("simavr: ", stderr);
    vfprintf(stderr, format, ap);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void build_config(st_config_t *c, const char *serial, const char *model, int text)
{
    memset(c, 0, sizeof *c);
    c->layout = ST_CONFIG_LAYOUT;
    if (strlen(serial) > ST_SERIAL_LEN || strlen(model) > ST_MODEL_LEN) {
        fprintf(stderr, "probe-harness: serial and model are at most %d characters\n", ST_SERIAL_LEN);
        exit(2);
    }
    strcpy(c->serial, serial);
    strcpy(c->probe_model, model);
    c->protocol = text ? ST_PROTO_TEXT : ST_PROTO_BINARY;
    for (int i = 0; i < 2; i++) {
        c->channel[i].series_deci_ohm = (uint32_t)lround(series_ohm * 10);
        c->channel[i].a_q39 = ST_YSI400_A_Q39;
        c->channel[i].b_q42 = ST_YSI400_B_Q42;
        c->channel[i].c_q50 = ST_YSI400_C_Q50;
    }
    c->crc = st_crc16((const uint8_t *)c, offsetof(st_config_t, crc));
}

static void write_eep(const char *file, const st_config_t *c)
{
    FILE *f = fopen(file, "w");
    if (!f) { fprintf(stderr, "probe-harness: cannot write %s: %s\n", file, strerror(errno)); exit(2); }
    const uint8_t *p = (const uint8_t *)c;
    for (size_t at = 0; at < sizeof *c; at += 16) {
        size_t n = sizeof *c - at < 16 ? sizeof *c - at : 16;
        unsigned sum = (unsigned)n + (at >> 8) + (at & 0xFF);
        fprintf(f, ":%02X%04X00", (unsigned)n, (unsigned)at);
        for (size_t i = 0; i < n; i++) { fprintf(f, "%02X", p[at + i]); sum += p[at + i]; }
        fprintf(f, "%02X\n", (unsigned)(-sum & 0xFF));
    }
    fputs(":00000001FF\n", f);
    fclose(f);
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void usage(void)
{
    fputs("usage: probe-harness FIRMWARE.elf [--course FILE] [--serial ID] [--model NAME] [--text]\n"
          "       [--series-ohm R] [--actual-series-ohm R] [--dtr pin|reset|none] [--noise-lsb S]\n"
          "       [--seed N] [--speed X] [--course-clock open|start]\n"
          "       probe-harness --write-eep FILE [--serial ID] [--model NAME] [--text] [--series-ohm R]\n", stderr);
    exit(2);
}

static double number_arg(const char *flag, const char *s, double low, double high)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v >= low && v <= high)) {
        fprintf(stderr, "probe-harness: %s must be a number from %g to %g, not %s\n", flag, low, high, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *elf = NULL, *course_file = NULL, *eep = NULL, *serial = "ST-0042", *model = "YSI-400";
    int text = 0, clock_at_open = 1;
    double speed = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--text")) { text = 1; continue; }
        if (a[0] != '-') { elf = a; continue; }
        if (!v) usage();
        i++;
        if (!strcmp(a, "--course")) course_file = v;
        else if (!strcmp(a, "--serial")) serial = v;
        else if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--write-eep")) eep = v;
        else if (!strcmp(a, "--series-ohm")) series_ohm = number_arg(a, v, 10, 1e6);
        else if (!strcmp(a, "--actual-series-ohm")) actual_series_ohm = number_arg(a, v, 10, 1e6);
        else if (!strcmp(a, "--noise-lsb")) noise_lsb = number_arg(a, v, 0, 10);
        else if (!strcmp(a, "--seed")) rng ^= (uint64_t)number_arg(a, v, 0, 1e15) * 0x2545F4914F6CDD1Dull;
        else if (!strcmp(a, "--speed")) speed = number_arg(a, v, 0.01, 100);
        else if (!strcmp(a, "--course-clock")) {
            if (strcmp(v, "open") && strcmp(v, "start")) usage();
            clock_at_open = !strcmp(v, "open");
        } else if (!strcmp(a, "--dtr")) {
            if (!strcmp(v, "pin")) dtr_mode = DTR_PIN;
            else if (!strcmp(v, "reset")) dtr_mode = DTR_RESET;
            else if (!strcmp(v, "none")) dtr_mode = DTR_NONE;
            else usage();
        } else usage();
    }
    if (actual_series_ohm < 0) actual_series_ohm = series_ohm;
    st_config_t config;
    build_config(&config, serial, model, text);
    if (eep) { write_eep(eep, &config); return 0; }
    if (!elf) usage();
    if (course_file) load_course(course_file);
    else { course[0] = (course_point_t){0, {32.0, 32.0}}; course_len = 1; }

    avr_global_logger_set(logger);
    elf_firmware_t fw;
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(elf, &fw) != 0) { fprintf(stderr, "probe-harness: cannot load %s\n", elf); return 2; }
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) { fprintf(stderr, "probe-harness: simavr has no atmega328p\n"); return 2; }
    avr_init(avr);
    avr_load_firmware(avr, &fw);
    avr->frequency = (uint32_t)F_CPU_HZ;
    avr->vcc = avr->avcc = (uint32_t)lround(VCC_V / UNIT_V);
    avr->aref = 1;
    avr->log = LOG_WARNING;
    avr_eeprom_desc_t ee = {(uint8_t *)&config, 0, sizeof config};
    avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &ee);

    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), on_adc_trigger, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 0), on_pb0, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 5), on_pb5, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_uart_out, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, NULL);
    quiet_uart();

    int slave;
    char path[256];
    if (openpty(&master, &slave, path, NULL, NULL) != 0) { perror("probe-harness: openpty"); return 2; }
    struct termios raw;
    tcgetattr(slave, &raw);
    cfmakeraw(&raw);
    tcsetattr(slave, TCSANOW, &raw);
    close(slave);   /* from now on POLLHUP on the master says whether a host has the port open */
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    printf("%s\n", path);
    fflush(stdout);
    fprintf(stderr, "probe-harness: %s as unit %s on %s (DTR# %s, noise %.2f LSB, %gx)\n", elf, serial, path,
            dtr_mode == DTR_PIN ? "to PD2" : dtr_mode == DTR_RESET ? "to RESET" : "unconnected", noise_lsb, speed);
    if (!clock_at_open) course_zero_s = 0;

    int was_open = 0;
    set_dtr_pin(0);
    last_cycle = avr->cycle;
    double wall0 = wall_s();
    char cmd[64];
    size_t cmd_len = 0;
    int stdin_open = 1;
    while (!stop) {
        avr_cycle_count_t target = avr->cycle + (avr_cycle_count_t)(F_CPU_HZ / 1000);
        int state = cpu_Running;
        while (avr->cycle < target && (state == cpu_Running || state == cpu_Sleeping || state == cpu_Step))
            state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) {
            fprintf(stderr, "probe-harness: the firmware stopped (%s) at %.3f s\n",
                    state == cpu_Done ? "sleep with interrupts off" : "crashed", sim_s);
            break;
        }
        if (avr->cycle >= last_cycle) sim_s += (avr->cycle - last_cycle) / F_CPU_HZ;
        last_cycle = avr->cycle;

        int open = host_has_port();
        if (open && !was_open) {
            if (course_zero_s < 0) course_zero_s = sim_s;
            if (dtr_mode == DTR_RESET) reset_chip(1);
            set_dtr_pin(1);
        } else if (!open && was_open) {
            set_dtr_pin(0);
        }
        was_open = open;
        service_pty(open);

        if (stdin_open) {
            char c;
            ssize_t n;
            while ((n = read(STDIN_FILENO, &c, 1)) == 1) {
                if (c != '\n') { if (cmd_len < sizeof cmd - 1) cmd[cmd_len++] = c; continue; }
                cmd[cmd_len] = 0;
                cmd_len = 0;
                if (!strcmp(cmd, "reset")) {
                    reset_chip(open);
                    fprintf(stderr, "probe-harness: RESET pulsed at %.3f s\n", sim_s);
                } else if (!strcmp(cmd, "quit")) {
                    stop = 1;
                } else if (cmd[0]) {
                    fprintf(stderr, "probe-harness: unknown command %s (reset, quit)\n", cmd);
                }
            }
            if (n == 0) stdin_open = 0;
        }
        double ahead = sim_s / speed - (wall_s() - wall0);
        if (ahead > 0.0005) {
            struct timespec ts = {(time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    print_span("convert+encode+queue one frame (PB5)", &busy_span);
    print_span("excite+settle+sample both channels (PB0)", &burst_span);
    fprintf(stderr, "probe-harness: %.1f s simulated, %u resets, %llu bytes dropped\n", sim_s, resets, bytes_dropped);
    return 0;
}

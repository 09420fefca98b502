/* Chaos pass: the built library tracks a few dozen orders against `xo-sim --chaos SEED` for a
 * few seeds (random refusals, garbage handshakes, rejected connects, early closes and resets,
 * hostile frames, binary frames, odd-case statuses, 5xx/429/404-lag/slow/stalled/dropped HTTP
 * answers, hostile Retry-After values, the token echoed in error text and close reasons).
 *
 * Asserts, per seed: exactly one final per order, with the order's scripted outcome; no callback
 * after xo_cancel returned; no 8-byte piece of the token in any event message, raw status or log
 * line; no crash; no hang (every order final within a deadline, and an alarm() outer limit).
 *
 * usage: chaos <xo-sim path> [seed...]    (default seeds 1 2 3). Last line: "N passed, M failed". */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "sim_control.h"
#include "xo_tracker.h"

#define ORDERS 30
#define FINAL_WAIT_SECONDS 40
#define OUTER_LIMIT_SECONDS 240

static int passed, failed;

static void check(int ok, const char *what, long seed) {
    printf("%s - seed %ld: %s\n", ok ? "ok" : "not ok", seed, what);
    fflush(stdout);
    if (ok) passed++;
    else failed++;
}

typedef struct order {
    int64_t id;
    int64_t handle;
    xo_outcome expected;
    int cancel;    /* this order is cancelled while tracking */
    int cancelled; /* set once xo_cancel returned */
    int finals;
    xo_outcome outcome;
    int after_cancel;
    int events;
} order;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static order orders[ORDERS];
static char token[160];
static int leaks, log_lines, redacted;
static char leak_example[300];

/* Whether `text` holds an 8-byte piece of the token. */
static int leaks_token(const char *text) {
    size_t n = strlen(token), m = strlen(text);
    if (m < 8) return 0;
    for (size_t i = 0; i + 8 <= n; i++) {
        for (size_t j = 0; j + 8 <= m; j++) {
            if (memcmp(token + i, text + j, 8) == 0) return 1;
        }
    }
    return 0;
}

static void note_leak(const char *text) {
    leaks++;
    snprintf(leak_example, sizeof leak_example, "%s", text);
}

static void on_event(void *userdata, const xo_event *e) {
    order *o = userdata;
    pthread_mutex_lock(&lock);
    o->events++;
    if (o->cancelled) o->after_cancel++;
    if (leaks_token(e->message)) note_leak(e->message);
    if (strstr(e->message, "<redacted>")) redacted++;
    if (leaks_token(e->status_raw)) note_leak(e->status_raw);
    if (getenv("XO_CHAOS_LOG"))
        fprintf(stderr, "event: order %lld kind %d status %d outcome %d transport %d error %d http %d msg %s\n",
                (long long)o->id, (int)e->kind, (int)e->status, (int)e->outcome, (int)e->transport_state,
                (int)e->error_code, (int)e->http_status, e->message);
    if (e->kind == XO_EVENT_KIND_FINAL) {
        o->finals++;
        o->outcome = e->outcome;
        pthread_cond_broadcast(&changed);
    }
    pthread_mutex_unlock(&lock);
}

static void on_log(void *userdata, int32_t level, const char *line) {
    (void)userdata;
    (void)level;
    pthread_mutex_lock(&lock);
    log_lines++;
    if (leaks_token(line)) note_leak(line);
    if (getenv("XO_CHAOS_LOG")) fprintf(stderr, "log: %s\n", line);
    pthread_mutex_unlock(&lock);
}

/* Spawns `path --chaos SEED --ping-secs 2`. */
static int sim_start_chaos(const char *path, long seed, sim_process *sim) {
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%ld", seed);
    const char *args[] = {"--chaos", seed_text, "--ping-secs", "2", NULL};
    return sim_start_with(path, args, sim);
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void run_seed(const char *sim_path, long seed) {
    sim_process sim;
    if (sim_start_chaos(sim_path, seed, &sim) != 0) {
        check(0, "xo-sim --chaos starts", seed);
        return;
    }
    /* A JWT-shaped token the simulator echoes back in error texts and close reasons. */
    snprintf(token, sizeof token, "eyJhbGciOiJIUzI1NiJ9.eyJjaGFvcyI6%ld.c2lnbmF0dXJlLWNoYW9z", seed);
    leaks = 0;
    log_lines = 0;
    redacted = 0;
    const char *finals[] = {"done", "canceled", "expired"};
    const xo_outcome outcomes[] = {XO_OUTCOME_DONE, XO_OUTCOME_CANCELED, XO_OUTCOME_EXPIRED};
    int setup_ok = 1;
    for (int i = 0; i < ORDERS; i++) {
        order *o = &orders[i];
        memset(o, 0, sizeof *o);
        o->id = seed * 1000 + i + 1;
        o->expected = outcomes[i % 3];
        o->cancel = i % 7 == 3;
        int paid_ms = 100 + (int)((i * 37) % 900), final_ms = 200 + (int)((i * 53) % 1800);
        char json[512];
        snprintf(json, sizeof json,
                 "{\"order_id\":%lld,\"status\":\"new\",\"timeline\":[{\"after_ms\":%d,\"status\":\"paid\"},"
                 "{\"after_ms\":%d,\"status\":\"%s\"}]}",
                 (long long)o->id, paid_ms, final_ms, finals[i % 3]);
        if (sim_post(&sim, "/_sim/order", json) != 200) setup_ok = 0;
    }
    check(setup_ok, "orders scripted in the simulator", seed);

    xo_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.project_id = 1001;
    /* Every third seed uses the legacy per-order socket. */
    config.transport = seed % 3 == 0 ? XO_TRANSPORT_LEGACY_SOCKET : XO_TRANSPORT_CENTRIFUGO;
    config.centrifugo_url = sim.centrifugo_url;
    config.legacy_socket_url = sim.legacy_url;
    config.api_base_url = sim.api_url;
    config.poll_interval_ms = 150;
    config.request_timeout_ms = 800; /* below the simulator's 2.5 s stalls */
    config.backoff_min_ms = 30;
    config.backoff_max_ms = 300;
    config.polling_deadline_ms = 60000;
    config.overall_deadline_ms = 90000;
    config.token_wait_ms = 2000;
    config.allow_insecure_loopback = 1;
    check(xo_configure(&config) == XO_RESULT_OK, "xo_configure", seed);
    xo_set_log_callback(on_log, NULL, XO_LOG_LEVEL_DEBUG);

    int started = 1;
    for (int i = 0; i < ORDERS; i++) {
        orders[i].handle = xo_track_order(orders[i].id, token, on_event, &orders[i]);
        if (orders[i].handle <= 0) started = 0;
    }
    check(started, "every order is tracked", seed);
    sleep_ms(150);
    for (int i = 0; i < ORDERS; i++) {
        if (!orders[i].cancel) continue;
        xo_result r = xo_cancel(orders[i].handle);
        pthread_mutex_lock(&lock);
        /* Cancelled before its final: no event may follow. Already final: nothing to cancel. */
        if (r == XO_RESULT_OK) orders[i].cancelled = 1;
        pthread_mutex_unlock(&lock);
    }

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += FINAL_WAIT_SECONDS;
    pthread_mutex_lock(&lock);
    for (;;) {
        int waiting = 0;
        for (int i = 0; i < ORDERS; i++) waiting += !orders[i].cancelled && orders[i].finals == 0;
        if (waiting == 0) break;
        if (pthread_cond_timedwait(&changed, &lock, &deadline) != 0) break;
    }
    int all_final = 1, one_final = 1, right_outcome = 1, quiet_after_cancel = 1, cancelled = 0;
    for (int i = 0; i < ORDERS; i++) {
        order *o = &orders[i];
        if (o->cancelled) {
            cancelled++;
            if (o->after_cancel || o->finals) quiet_after_cancel = 0;
            continue;
        }
        if (o->finals == 0) {
            all_final = 0;
            printf("# order %lld: no final after %d s (%d events)\n", (long long)o->id, FINAL_WAIT_SECONDS, o->events);
        }
        if (o->finals > 1) one_final = 0;
        if (o->finals == 1 && o->outcome != o->expected) {
            right_outcome = 0;
            printf("# order %lld: outcome %d, scripted %d\n", (long long)o->id, (int)o->outcome, (int)o->expected);
        }
    }
    pthread_mutex_unlock(&lock);
    check(all_final, "every order that was not cancelled got a final (no hang)", seed);
    check(one_final, "no order got more than one final", seed);
    check(right_outcome, "every final is the order's scripted outcome", seed);
    check(quiet_after_cancel, "no callback after xo_cancel returned", seed);
    check(xo_shutdown() == XO_RESULT_OK, "xo_shutdown", seed);
    sleep_ms(50);
    pthread_mutex_lock(&lock);
    int leaked = leaks;
    pthread_mutex_unlock(&lock);
    if (leaked) printf("# token piece in: %s\n", leak_example);
    check(leaked == 0, "no piece of the token in any message or log line", seed);

    char stats[16384];
    int faults = -1;
    if (sim_request(&sim, "GET", "/_sim/stats", NULL, stats, sizeof stats) == 200) {
        const char *at = strstr(stats, "\"chaos_faults\":");
        if (at) faults = atoi(at + strlen("\"chaos_faults\":"));
    }
    printf("# seed %ld: %s, %d orders (%d cancelled), %d chaos faults injected, %d log lines, %d event messages "
           "with a redacted token echo\n",
           seed, config.transport == XO_TRANSPORT_LEGACY_SOCKET ? "legacy socket" : "centrifugo", ORDERS, cancelled,
           faults, log_lines, redacted);
    check(faults > 0, "the simulator injected chaos faults", seed);
    sim_stop(&sim);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <xo-sim path> [seed...]\n", argv[0]);
        return 2;
    }
    alarm(OUTER_LIMIT_SECONDS); /* a hang is a failure, never a stuck test command */
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2) {
        for (long seed = 1; seed <= 3; seed++) run_seed(argv[1], seed);
    } else {
        for (int i = 2; i < argc; i++) run_seed(argv[1], strtol(argv[i], NULL, 10));
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

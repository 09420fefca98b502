/* Tests the C ABI through the generated header only, against the real library and the simulator.
 * Usage: test_c_api <path to xo-sim>. Prints "ok|FAIL <test>" per test, then "N passed, N failed"
 * counting tests (a test passes when every CHECK in it holds), and exits non-zero on a failure. */
#define _POSIX_C_SOURCE 200809L
#include "xo_tracker.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_control.h"

static int passed, failed; /* tests, not assertions */
static int current_failed;  /* failed CHECKs in the running test */
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            current_failed++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, \
                    #cond, xo_last_error());                                          \
        }                                                                            \
    } while (0)

static const char *TOKEN = "c-test-secret-token";
static sim_process sim;

/* ---- event recording ---- */

#define MAX_EVENTS 64
typedef struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int count;
    int finals;
    xo_event_kind kinds[MAX_EVENTS];
    xo_status statuses[MAX_EVENTS];
    xo_transport_state transports[MAX_EVENTS];
    xo_outcome outcome;
    int had_contents;
    int typed_ok;          /* the last final event's typed contents matched its JSON */
    int typed_items;       /* and had this many items */
    int message_leaks_token;
    pthread_t thread;
    int cancel_inside;     /* call xo_cancel on the first event */
    int64_t handle;
    xo_result shutdown_inside, dispatch_inside, cancel_inside_result;
} recorder;

static void recorder_init(recorder *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
}

/* ---- typed contents ---- */

typedef struct text_buf {
    char data[8192];
    size_t len;
} text_buf;

static void put(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_buf *b, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    if (b->len < sizeof b->data) b->len += (size_t)vsnprintf(b->data + b->len, sizeof b->data - b->len, fmt, args);
    va_end(args);
}

static void put_price(text_buf *b, const char *key, const xo_price *p) {
    if (!p) {
        put(b, "\"%s\":null", key);
        return;
    }
    put(b, "\"%s\":{\"amount\":\"%s\",\"amount_without_discount\":\"%s\",\"currency\":\"%s\"}", key, p->amount,
        p->amount_without_discount, p->currency);
}

/* Rebuilds the compact JSON (keys sorted, as the library writes them) from the typed contents and
 * compares it with `contents_json`: 1 if they agree (both absent counts). Valid for contents that
 * need no escaping and carry only the known keys, like the simulator's. */
static int typed_matches_json(const xo_event *e) {
    if (e->struct_size < offsetof(xo_event, contents) + sizeof e->contents) return 0;
    if (!e->contents_json) return e->contents == NULL;
    const xo_contents *c = e->contents;
    if (!c || c->struct_size != sizeof(xo_contents)) return 0;
    if ((c->item_count == 0) != (c->items == NULL) || c->item_count > XO_MAX_ITEMS) return 0;
    text_buf b = {.len = 0};
    put(&b, "{\"is_free\":%s,\"items\":[", c->is_free ? "true" : "false");
    for (uint32_t i = 0; i < c->item_count; i++) {
        const xo_item *it = &c->items[i];
        put(&b, "%s{\"is_free\":%s,", i ? "," : "", it->is_free ? "true" : "false");
        put_price(&b, "price", it->price);
        put(&b, ",\"quantity\":%lld,\"sku\":\"%s\",", (long long)it->quantity, it->sku);
        put_price(&b, "virtual_price", it->virtual_price);
        put(&b, "}");
    }
    put(&b, "],");
    put_price(&b, "price", c->price);
    put(&b, ",");
    put_price(&b, "virtual_price", c->virtual_price);
    put(&b, "}");
    if (b.len >= sizeof b.data || strcmp(b.data, e->contents_json) != 0) {
        fprintf(stderr, "typed contents %s\n    differ from %s\n", b.data, e->contents_json);
        return 0;
    }
    return 1;
}

static void on_event(void *userdata, const xo_event *e) {
    recorder *r = (recorder *)userdata;
    pthread_mutex_lock(&r->lock);
    if (r->count < MAX_EVENTS) {
        r->kinds[r->count] = e->kind;
        r->statuses[r->count] = e->status;
        r->transports[r->count] = e->transport_state;
    }
    r->count++;
    r->thread = pthread_self();
    if (strstr(e->message, TOKEN) || strstr(e->status_raw, TOKEN)) r->message_leaks_token = 1;
    if (e->kind == XO_EVENT_KIND_FINAL || e->kind == XO_EVENT_KIND_CHECK_RESULT) {
        r->finals++;
        r->outcome = e->outcome;
        r->had_contents = e->contents_json != NULL && strstr(e->contents_json, "\"items\"") != NULL;
        r->typed_ok = typed_matches_json(e);
        r->typed_items = e->contents ? (int)e->contents->item_count : -1;
    } else if (e->contents != NULL) {
        r->typed_ok = 0; /* only final and check events carry contents */
    }
    pthread_mutex_unlock(&r->lock);
    if (r->cancel_inside && r->count == 1) {
        r->shutdown_inside = xo_shutdown();
        r->dispatch_inside = (xo_result)xo_dispatch(10);
        r->cancel_inside_result = xo_cancel(e->handle);
    }
    pthread_mutex_lock(&r->lock);
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

/* Waits until `pred` holds or `ms` pass; returns whether it holds. */
static int wait_for(recorder *r, int (*pred)(recorder *), int ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->lock);
    int ok;
    while (!(ok = pred(r))) {
        if (pthread_cond_timedwait(&r->changed, &r->lock, &deadline) == ETIMEDOUT) {
            ok = pred(r);
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static int has_final(recorder *r) { return r->finals > 0; }
static int has_any(recorder *r) { return r->count > 0; }

static int index_of_status(recorder *r, xo_status s) {
    for (int i = 0; i < r->count && i < MAX_EVENTS; i++)
        if (r->kinds[i] == XO_EVENT_KIND_STATUS_CHANGED && r->statuses[i] == s) return i;
    return -1;
}

static int has_transport(recorder *r, xo_transport_state t) {
    for (int i = 0; i < r->count && i < MAX_EVENTS; i++)
        if (r->kinds[i] == XO_EVENT_KIND_TRANSPORT_CHANGED && r->transports[i] == t) return 1;
    return 0;
}

static xo_config sim_config(xo_delivery delivery) {
    xo_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.project_id = 1001;
    c.centrifugo_url = sim.centrifugo_url;
    c.legacy_socket_url = sim.legacy_url;
    c.api_base_url = sim.api_url;
    c.delivery = delivery;
    c.poll_interval_ms = 100; /* real time here: keep the test fast */
    c.backoff_min_ms = 50;
    c.backoff_max_ms = 200;
    c.allow_insecure_loopback = 1;
    return c;
}

static void add_order(int64_t id, const char *status, const char *later, int after_ms, int push) {
    char json[512];
    if (later)
        snprintf(json, sizeof json,
                 "{\"order_id\":%lld,\"status\":\"%s\",\"timeline\":[{\"after_ms\":%d,\"status\":\"%s\"}],\"push\":%s}",
                 (long long)id, status, after_ms, later, push ? "true" : "false");
    else
        snprintf(json, sizeof json, "{\"order_id\":%lld,\"status\":\"%s\",\"push\":%s}", (long long)id, status,
                 push ? "true" : "false");
    CHECK(sim_post(&sim, "/_sim/order", json) == 200);
}

/* ---- tests ---- */

static void test_version(void) {
    CHECK(xo_abi_version() == XO_ABI_VERSION);
    CHECK(strlen(xo_version()) >= 5);
    CHECK(strcmp(xo_result_string(XO_RESULT_NULL_ARGUMENT), "unknown result code") != 0);
    CHECK(strcmp(xo_result_string(12345), "unknown result code") == 0);
}

static void test_bad_input(void) {
    recorder r;
    recorder_init(&r);
    CHECK(xo_shutdown() == XO_RESULT_OK);
    CHECK(xo_track_order(1, TOKEN, on_event, &r) == XO_RESULT_NOT_CONFIGURED);
    CHECK(strstr(xo_last_error(), "xo_configure") != NULL);
    CHECK(xo_cancel(12345) == XO_RESULT_UNKNOWN_HANDLE);
    CHECK(xo_dispatch(10) == 0);
    CHECK(xo_set_app_active(1) == XO_RESULT_OK); /* harmless before configuration */
    CHECK(xo_network_changed() == XO_RESULT_OK);

    CHECK(xo_configure(NULL) == XO_RESULT_NULL_ARGUMENT);
    xo_config c = sim_config(XO_DELIVERY_DIRECT);
    c.struct_size = 4;
    CHECK(xo_configure(&c) == XO_RESULT_INVALID_ARGUMENT);
    c = sim_config(XO_DELIVERY_DIRECT);
    c.project_id = 0;
    CHECK(xo_configure(&c) == XO_RESULT_INVALID_ARGUMENT);
    c = sim_config(XO_DELIVERY_DIRECT);
    c.allow_insecure_loopback = 0;
    CHECK(xo_configure(&c) == XO_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(xo_last_error(), "allow_insecure_loopback") != NULL);
    c = sim_config(XO_DELIVERY_DIRECT);
    c.transport = 99;
    CHECK(xo_configure(&c) == XO_RESULT_INVALID_ARGUMENT);
    c = sim_config(XO_DELIVERY_DIRECT);
    c.api_base_url = "\xff\xfe";
    CHECK(xo_configure(&c) == XO_RESULT_INVALID_UTF8);

    c = sim_config(XO_DELIVERY_DIRECT);
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    CHECK(xo_track_order(1, NULL, on_event, &r) == XO_RESULT_NULL_ARGUMENT);
    CHECK(xo_track_order(1, TOKEN, NULL, &r) == XO_RESULT_NULL_ARGUMENT);
    CHECK(xo_track_order(1, "", on_event, &r) == XO_RESULT_INVALID_ARGUMENT);
    CHECK(xo_track_order(1, "\xc3\x28", on_event, &r) == XO_RESULT_INVALID_UTF8);
    CHECK(xo_track_order(0, TOKEN, on_event, &r) == XO_RESULT_INVALID_ARGUMENT);
    CHECK(xo_track_order(-5, TOKEN, on_event, &r) == XO_RESULT_INVALID_ARGUMENT);
    CHECK(xo_check_order(-1, TOKEN, on_event, &r) == XO_RESULT_INVALID_ARGUMENT);
    size_t huge_len = 1024 * 1024;
    char *huge = malloc(huge_len + 1);
    memset(huge, 'a', huge_len);
    huge[huge_len] = '\0';
    CHECK(xo_track_order(1, huge, on_event, &r) == XO_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(xo_last_error(), "longer than") != NULL);
    free(huge);
    CHECK(xo_update_token(987654321, TOKEN) == XO_RESULT_UNKNOWN_HANDLE);
    CHECK(xo_update_token(1, NULL) == XO_RESULT_NULL_ARGUMENT);
    CHECK(xo_cancel(-3) == XO_RESULT_UNKNOWN_HANDLE);
    CHECK(xo_set_log_callback(NULL, NULL, 9) == XO_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(xo_last_error(), TOKEN) == NULL);
    CHECK(r.count == 0);
    CHECK(xo_shutdown() == XO_RESULT_OK);
    CHECK(xo_shutdown() == XO_RESULT_OK);
}

static int log_lines;
static int log_leaks;
static void on_log(void *userdata, int32_t level, const char *message) {
    (void)userdata;
    (void)level;
    __atomic_add_fetch(&log_lines, 1, __ATOMIC_SEQ_CST);
    if (strstr(message, TOKEN)) __atomic_store_n(&log_leaks, 1, __ATOMIC_SEQ_CST);
}

static int has_new_over_socket(recorder *r) {
    return index_of_status(r, XO_STATUS_NEW) >= 0 && has_transport(r, XO_TRANSPORT_STATE_SOCKET_CONNECTED);
}

static void test_success_over_socket(void) {
    xo_config c = sim_config(XO_DELIVERY_DIRECT);
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    CHECK(xo_set_log_callback(on_log, NULL, XO_LOG_LEVEL_DEBUG) == XO_RESULT_OK);
    /* The order becomes done only once the tracker has seen "new" over a connected socket: a
     * timeline started at order creation raced the tracker's start-up (lost under valgrind). */
    add_order(701, "new", NULL, 0, 1);
    recorder r;
    recorder_init(&r);
    int64_t h = xo_track_order(701, TOKEN, on_event, &r);
    CHECK(h > 0);
    CHECK(wait_for(&r, has_new_over_socket, 20000));
    CHECK(sim_post(&sim, "/_sim/status", "{\"order_id\":701,\"status\":\"done\"}") == 200);
    CHECK(wait_for(&r, has_final, 20000));
    CHECK(r.finals == 1);
    CHECK(r.outcome == XO_OUTCOME_DONE);
    CHECK(r.had_contents);
    CHECK(r.typed_ok);
    CHECK(r.typed_items == 1);
    CHECK(index_of_status(&r, XO_STATUS_NEW) >= 0);
    CHECK(index_of_status(&r, XO_STATUS_NEW) < index_of_status(&r, XO_STATUS_DONE));
    CHECK(has_transport(&r, XO_TRANSPORT_STATE_SOCKET_CONNECTED));
    CHECK(!r.message_leaks_token);
    CHECK(xo_cancel(h) == XO_RESULT_UNKNOWN_HANDLE); /* already final */
    CHECK(log_lines > 0);
    CHECK(!log_leaks);
    CHECK(xo_set_log_callback(NULL, NULL, XO_LOG_LEVEL_DEBUG) == XO_RESULT_OK);
    CHECK(xo_shutdown() == XO_RESULT_OK);
}

static int has_new_while_polling(recorder *r) {
    return index_of_status(r, XO_STATUS_NEW) >= 0 && has_transport(r, XO_TRANSPORT_STATE_POLLING);
}

static void test_fallback_to_polling(void) {
    xo_config c = sim_config(XO_DELIVERY_DIRECT);
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    CHECK(sim_post(&sim, "/_sim/fault", "{\"fault\":\"centrifugo_refuse\",\"n\":1000000}") == 200);
    /* Done only once the tracker polls (a slow start, e.g. under valgrind, must not see done in
     * its very first request, before the socket was refused). */
    add_order(702, "new", NULL, 0, 0);
    recorder r;
    recorder_init(&r);
    CHECK(xo_track_order(702, "another-token", on_event, &r) > 0);
    CHECK(wait_for(&r, has_new_while_polling, 20000));
    CHECK(sim_post(&sim, "/_sim/status", "{\"order_id\":702,\"status\":\"done\"}") == 200);
    CHECK(wait_for(&r, has_final, 20000));
    CHECK(r.outcome == XO_OUTCOME_DONE);
    CHECK(has_transport(&r, XO_TRANSPORT_STATE_POLLING));
    CHECK(!has_transport(&r, XO_TRANSPORT_STATE_SOCKET_CONNECTED));
    CHECK(sim_post(&sim, "/_sim/fault", "{\"fault\":\"centrifugo_refuse\",\"n\":0}") == 200);
    CHECK(xo_shutdown() == XO_RESULT_OK);
}

static void test_cancel_and_callback_rules(void) {
    xo_config c = sim_config(XO_DELIVERY_DIRECT);
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    add_order(703, "new", NULL, 0, 1);

    /* Cancel from another thread: nothing after it returns. */
    recorder r;
    recorder_init(&r);
    int64_t h = xo_track_order(703, TOKEN, on_event, &r);
    CHECK(wait_for(&r, has_any, 5000));
    CHECK(xo_cancel(h) == XO_RESULT_OK);
    pthread_mutex_lock(&r.lock);
    int seen = r.count;
    pthread_mutex_unlock(&r.lock);
    CHECK(sim_post(&sim, "/_sim/status", "{\"order_id\":703,\"status\":\"done\"}") == 200);
    CHECK(!wait_for(&r, has_final, 500));
    CHECK(r.count == seen);
    CHECK(xo_cancel(h) == XO_RESULT_UNKNOWN_HANDLE);

    /* Cancel, shutdown and dispatch from inside the callback. */
    add_order(704, "new", "done", 200, 1);
    recorder inside;
    recorder_init(&inside);
    inside.cancel_inside = 1;
    inside.handle = xo_track_order(704, TOKEN, on_event, &inside);
    CHECK(inside.handle > 0);
    CHECK(wait_for(&inside, has_any, 5000));
    CHECK(!wait_for(&inside, has_final, 700));
    CHECK(inside.count == 1);
    CHECK(inside.shutdown_inside == XO_RESULT_IN_CALLBACK);
    CHECK(inside.dispatch_inside == XO_RESULT_IN_CALLBACK);
    CHECK(inside.cancel_inside_result == XO_RESULT_OK);
    CHECK(xo_shutdown() == XO_RESULT_OK);
}

static void test_queued_delivery(void) {
    xo_config c = sim_config(XO_DELIVERY_QUEUED);
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    add_order(705, "done", NULL, 0, 1);
    recorder r;
    recorder_init(&r);
    CHECK(xo_track_order(705, TOKEN, on_event, &r) > 0);
    CHECK(!wait_for(&r, has_any, 300)); /* nothing runs without xo_dispatch */
    for (int i = 0; i < 200 && !r.finals; i++) {
        CHECK(xo_dispatch(100) >= 0);
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    CHECK(r.finals == 1);
    CHECK(r.outcome == XO_OUTCOME_DONE);
    CHECK(r.typed_ok); /* queued: the typed contents live through the callback inside xo_dispatch */
    CHECK(r.typed_items == 1);
    CHECK(pthread_equal(r.thread, pthread_self()));
    CHECK(xo_shutdown() == XO_RESULT_OK);
}

static void test_pause_and_resume(void) {
    xo_config c = sim_config(XO_DELIVERY_DIRECT);
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    add_order(707, "new", NULL, 0, 1);
    recorder r;
    recorder_init(&r);
    CHECK(xo_track_order(707, TOKEN, on_event, &r) > 0);
    CHECK(wait_for(&r, has_any, 5000));
    CHECK(xo_set_app_active(0) == XO_RESULT_OK);
    CHECK(sim_post(&sim, "/_sim/status", "{\"order_id\":707,\"status\":\"done\"}") == 200);
    CHECK(!wait_for(&r, has_final, 400)); /* paused: the change is not seen */
    CHECK(xo_set_app_active(1) == XO_RESULT_OK);
    CHECK(wait_for(&r, has_final, 5000)); /* resumed: checked at once */
    CHECK(r.outcome == XO_OUTCOME_DONE);
    CHECK(xo_network_changed() == XO_RESULT_OK);
    CHECK(xo_shutdown() == XO_RESULT_OK);

    /* Shutting down while paused, with a log callback: the next session starts active and silent. */
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    CHECK(xo_set_log_callback(on_log, NULL, XO_LOG_LEVEL_DEBUG) == XO_RESULT_OK);
    CHECK(xo_set_app_active(0) == XO_RESULT_OK);
    CHECK(xo_shutdown() == XO_RESULT_OK);
    int lines_before = __atomic_load_n(&log_lines, __ATOMIC_SEQ_CST);
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    add_order(708, "done", NULL, 0, 1);
    recorder next;
    recorder_init(&next);
    CHECK(xo_track_order(708, TOKEN, on_event, &next) > 0);
    CHECK(wait_for(&next, has_final, 5000));
    CHECK(next.outcome == XO_OUTCOME_DONE);
    CHECK(__atomic_load_n(&log_lines, __ATOMIC_SEQ_CST) == lines_before);
    CHECK(xo_shutdown() == XO_RESULT_OK);
}

static void test_check_order(void) {
    xo_config c = sim_config(XO_DELIVERY_DIRECT);
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    add_order(706, "paid", NULL, 0, 1);
    recorder r;
    recorder_init(&r);
    CHECK(xo_check_order(706, TOKEN, on_event, &r) > 0);
    CHECK(wait_for(&r, has_final, 5000));
    CHECK(r.count == 1);
    CHECK(r.kinds[0] == XO_EVENT_KIND_CHECK_RESULT);
    CHECK(r.statuses[0] == XO_STATUS_PAID);
    CHECK(r.had_contents);
    CHECK(r.typed_ok);
    CHECK(xo_shutdown() == XO_RESULT_OK);
}

/* Typed contents of a drifting answer: numbers for amounts, "true" for is_free, prices absent. */
typedef struct typed_probe {
    recorder r;
    int ok;
} typed_probe;

static void on_typed(void *userdata, const xo_event *e) {
    typed_probe *p = (typed_probe *)userdata;
    const xo_contents *c = e->contents;
    int ok = c != NULL && c->is_free == 1 && c->price != NULL && strcmp(c->price->amount, "4.5") == 0 &&
             strcmp(c->price->amount_without_discount, "") == 0 && strcmp(c->price->currency, "EUR") == 0 &&
             c->virtual_price == NULL && c->item_count == 3;
    if (ok) {
        const xo_item *it = c->items;
        ok = strcmp(it[0].sku, "gem") == 0 && it[0].quantity == 7 && it[0].is_free == 1 && it[0].price == NULL &&
             it[0].virtual_price != NULL && strcmp(it[0].virtual_price->amount, "10") == 0 &&
             strcmp(it[0].virtual_price->currency, "crystal") == 0 && strcmp(it[1].sku, "") == 0 &&
             it[1].quantity == 0 && it[1].is_free == 0 && strcmp(it[2].sku, "sword") == 0 && it[2].price != NULL &&
             strcmp(it[2].price->amount, "2") == 0;
    }
    pthread_mutex_lock(&p->r.lock);
    p->ok = ok;
    p->r.outcome = e->outcome;
    p->r.typed_items = c ? (int)c->item_count : -1;
    p->r.finals++;
    pthread_cond_broadcast(&p->r.changed);
    pthread_mutex_unlock(&p->r.lock);
}

static void test_typed_contents(void) {
    xo_config c = sim_config(XO_DELIVERY_DIRECT);
    CHECK(xo_configure(&c) == XO_RESULT_OK);
    CHECK(sim_post(&sim, "/_sim/order",
                   "{\"order_id\":709,\"status\":\"done\",\"content\":{\"is_free\":\"true\","
                   "\"price\":{\"amount\":4.5,\"currency\":\"EUR\"},\"items\":["
                   "{\"sku\":\"gem\",\"quantity\":7,\"is_free\":\"true\","
                   "\"virtual_price\":{\"amount\":10,\"currency\":\"crystal\"}},"
                   "{\"quantity\":\"many\"},42,"
                   "{\"sku\":\"sword\",\"quantity\":1,\"price\":{\"amount\":\"2\",\"currency\":\"USD\"}}]}}") == 200);
    typed_probe p;
    memset(&p, 0, sizeof p);
    recorder_init(&p.r);
    CHECK(xo_check_order(709, TOKEN, on_typed, &p) > 0);
    CHECK(wait_for(&p.r, has_final, 5000));
    CHECK(p.r.outcome == XO_OUTCOME_DONE);
    CHECK(p.ok);
    CHECK(p.r.typed_items == 3);
    CHECK(xo_shutdown() == XO_RESULT_OK);
}

static void test_shutdown_with_live_trackers_then_again(void) {
    for (int round = 0; round < 3; round++) {
        xo_config c = sim_config(XO_DELIVERY_DIRECT);
        CHECK(xo_configure(&c) == XO_RESULT_OK);
        add_order(710 + round, "new", NULL, 0, 1);
        recorder r;
        recorder_init(&r);
        CHECK(xo_track_order(710 + round, TOKEN, on_event, &r) > 0);
        CHECK(wait_for(&r, has_any, 5000));
        CHECK(xo_configure(&c) == XO_RESULT_BUSY);
        CHECK(xo_shutdown() == XO_RESULT_OK);
        pthread_mutex_lock(&r.lock);
        int seen = r.count;
        pthread_mutex_unlock(&r.lock);
        CHECK(!wait_for(&r, has_final, 200));
        CHECK(r.count == seen);
        CHECK(xo_track_order(710, TOKEN, on_event, &r) == XO_RESULT_NOT_CONFIGURED);
    }
}

/* Runs one test: it passes when none of its CHECKs failed. */
#define RUN(test)                                                        \
    do {                                                                 \
        current_failed = 0;                                              \
        test();                                                          \
        if (current_failed) failed++; else passed++;                     \
        printf("%s %s\n", current_failed ? "FAIL" : "ok  ", #test);     \
        fflush(stdout);                                                  \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 2 || sim_start(argv[1], &sim) != 0) {
        fprintf(stderr, "usage: %s <path to xo-sim>\n", argv[0]);
        return 2;
    }
    RUN(test_version);
    RUN(test_bad_input);
    RUN(test_success_over_socket);
    RUN(test_fallback_to_polling);
    RUN(test_cancel_and_callback_rules);
    RUN(test_queued_delivery);
    RUN(test_pause_and_resume);
    RUN(test_check_order);
    RUN(test_typed_contents);
    RUN(test_shutdown_with_live_trackers_then_again);
    sim_stop(&sim);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

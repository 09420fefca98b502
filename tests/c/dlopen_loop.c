/* What the Unity Editor does across play sessions, N times in one process: dlopen the library,
 * resolve its symbols, configure it, track orders to their final event (and cancel one), shut it
 * down and dlclose it. Afterwards the process has exactly the threads and file descriptors it had
 * before the first round (counted from /proc/self/task and /proc/self/fd).
 *
 * Usage: dlopen_loop <path to libxo_tracker.so> <path to xo-sim> [rounds]
 * (rounds also from XO_DLOPEN_ROUNDS; default 100). Prints "N passed, N failed" counting rounds (a
 * round passes when every check in it holds).
 * The library is linked with -z nodelete, so dlclose never unloads it (checked each round with
 * RTLD_NOLOAD): its code and statics stay mapped, and the next dlopen returns the same copy. So
 * this proves that xo_shutdown releases every thread and descriptor, round after round, and that
 * re-opening and re-configuring the same loaded copy works each time; it does NOT prove that a
 * library really unloaded and loaded again (fresh statics, code unmapped under a thread) would
 * work: with -z nodelete that never happens. */
#define _POSIX_C_SOURCE 200809L
#include "xo_tracker.h"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_control.h"

static int passed, failed; /* rounds */
static int round_failed;   /* failed checks in the current round */
#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (!(cond)) {                                                   \
            round_failed++;                                              \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                \
            fprintf(stderr, "\n");                                       \
        }                                                                \
    } while (0)

typedef xo_result (*configure_fn)(const xo_config *);
typedef int64_t (*track_fn)(int64_t, const char *, xo_event_callback, void *);
typedef xo_result (*cancel_fn)(int64_t);
typedef xo_result (*shutdown_fn)(void);
typedef const char *(*last_error_fn)(void);
typedef uint32_t (*abi_fn)(void);

typedef struct api {
    void *lib;
    configure_fn configure;
    track_fn track;
    track_fn check;
    cancel_fn cancel;
    shutdown_fn shutdown;
    last_error_fn last_error;
    abi_fn abi_version;
} api;

static int load(const char *path, api *a) {
    memset(a, 0, sizeof *a);
    a->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!a->lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return -1;
    }
    /* POSIX allows converting dlsym's void * to a function pointer. */
#define RESOLVE(field, name)                                       \
    *(void **)(&a->field) = dlsym(a->lib, name);                   \
    if (!a->field) {                                               \
        fprintf(stderr, "dlsym %s: %s\n", name, dlerror());        \
        return -1;                                                 \
    }
    RESOLVE(configure, "xo_configure");
    RESOLVE(track, "xo_track_order");
    RESOLVE(check, "xo_check_order");
    RESOLVE(cancel, "xo_cancel");
    RESOLVE(shutdown, "xo_shutdown");
    RESOLVE(last_error, "xo_last_error");
    RESOLVE(abi_version, "xo_abi_version");
#undef RESOLVE
    return 0;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1 * (strcmp(dir, "/proc/self/fd") == 0); /* the DIR's own descriptor */
}

typedef struct probe {
    atomic_int events;
    atomic_int finals;
    atomic_int outcome;
} probe;

static void on_event(void *userdata, const xo_event *e) {
    probe *p = (probe *)userdata;
    atomic_fetch_add(&p->events, 1);
    if (e->kind == XO_EVENT_KIND_FINAL || e->kind == XO_EVENT_KIND_CHECK_RESULT) {
        atomic_store(&p->outcome, (int)e->outcome);
        atomic_fetch_add(&p->finals, 1);
    }
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits until `count` reaches `at_least`, at most `ms`. */
static int wait_count(atomic_int *count, int at_least, int ms) {
    for (int waited = 0; waited < ms; waited += 2) {
        if (atomic_load(count) >= at_least) return 1;
        sleep_ms(2);
    }
    return atomic_load(count) >= at_least;
}

/* /proc counts settle once every thread the shutdown joined has been reaped by the kernel. */
static int settle(const char *dir, int expected) {
    int n = count_entries(dir);
    for (int i = 0; i < 500 && n != expected; i++) {
        sleep_ms(2);
        n = count_entries(dir);
    }
    return n;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <libxo_tracker.so> <xo-sim> [rounds]\n", argv[0]);
        return 2;
    }
    int rounds = 100;
    const char *env = getenv("XO_DLOPEN_ROUNDS");
    if (argc > 3) rounds = atoi(argv[3]);
    else if (env) rounds = atoi(env);
    if (rounds < 1) rounds = 1;

    sim_process sim;
    if (sim_start(argv[2], &sim) != 0) {
        fprintf(stderr, "cannot start %s\n", argv[2]);
        return 2;
    }
    /* Orders: one done at once, one done shortly after, one that stays new (cancelled). */
    char body[256];
    for (int i = 0; i < rounds; i++) {
        snprintf(body, sizeof body, "{\"order_id\":%d,\"status\":\"done\",\"push\":false}", 100000 + 3 * i);
        if (sim_post(&sim, "/_sim/order", body) != 200) { fprintf(stderr, "sim order failed\n"); return 2; }
        snprintf(body, sizeof body,
                 "{\"order_id\":%d,\"status\":\"new\",\"timeline\":[{\"after_ms\":%d,\"status\":\"done\"}]}",
                 100001 + 3 * i, 60000 /* pushed only if tracked by then; set below */);
        if (sim_post(&sim, "/_sim/order", body) != 200) { fprintf(stderr, "sim order failed\n"); return 2; }
        snprintf(body, sizeof body, "{\"order_id\":%d,\"status\":\"new\"}", 100002 + 3 * i);
        if (sim_post(&sim, "/_sim/order", body) != 200) { fprintf(stderr, "sim order failed\n"); return 2; }
    }

    /* Baseline after the simulator's pipes exist and before the library was ever loaded. */
    int threads0 = count_entries("/proc/self/task");
    int fds0 = count_entries("/proc/self/fd");
    int max_threads = threads0, max_fds = fds0;

    for (int round = 0; round < rounds; round++) {
        api a;
        round_failed = 0;
        if (load(argv[1], &a) != 0) {
            fprintf(stderr, "FAIL round %d: cannot load the library\n", round);
            failed++;
            break;
        }
        CHECK(a.abi_version() == XO_ABI_VERSION, "round %d: ABI %u", round, a.abi_version());
        xo_config c;
        memset(&c, 0, sizeof c);
        c.struct_size = sizeof c;
        c.project_id = 1001;
        c.transport = round % 3; /* Centrifugo, legacy, polling */
        c.centrifugo_url = sim.centrifugo_url;
        c.legacy_socket_url = sim.legacy_url;
        c.api_base_url = sim.api_url;
        c.poll_interval_ms = 20;
        c.backoff_min_ms = 10;
        c.backoff_max_ms = 50;
        c.worker_threads = 1 + (uint32_t)(round % 2);
        c.allow_insecure_loopback = 1;
        CHECK(a.configure(&c) == XO_RESULT_OK, "round %d: configure: %s", round, a.last_error());

        probe done_now, done_later, cancelled, checked;
        memset(&done_now, 0, sizeof done_now);
        memset(&done_later, 0, sizeof done_later);
        memset(&cancelled, 0, sizeof cancelled);
        memset(&checked, 0, sizeof checked);
        int64_t id = 100000 + 3 * round;
        CHECK(a.track(id, "dlopen-token", on_event, &done_now) > 0, "round %d: track: %s", round, a.last_error());
        CHECK(a.track(id + 1, "dlopen-token", on_event, &done_later) > 0, "round %d: track", round);
        int64_t h = a.track(id + 2, "dlopen-token", on_event, &cancelled);
        CHECK(h > 0, "round %d: track", round);
        CHECK(a.check(id, "dlopen-token", on_event, &checked) > 0, "round %d: check", round);
        CHECK(wait_count(&done_now.finals, 1, 10000), "round %d: no final event", round);
        CHECK(wait_count(&checked.finals, 1, 10000), "round %d: no check result", round);
        CHECK(wait_count(&cancelled.events, 1, 10000), "round %d: no first event", round);
        snprintf(body, sizeof body, "{\"order_id\":%lld,\"status\":\"done\"}", (long long)(id + 1));
        CHECK(sim_post(&sim, "/_sim/status", body) == 200, "round %d: sim status", round);
        CHECK(wait_count(&done_later.finals, 1, 10000), "round %d: no final event after the change", round);
        CHECK(atomic_load(&done_now.outcome) == XO_OUTCOME_DONE, "round %d: outcome %d", round,
              atomic_load(&done_now.outcome));
        CHECK(atomic_load(&done_later.outcome) == XO_OUTCOME_DONE, "round %d", round);
        CHECK(a.cancel(h) == XO_RESULT_OK, "round %d: cancel: %s", round, a.last_error());
        int seen = atomic_load(&cancelled.events);

        int threads_live = count_entries("/proc/self/task");
        int fds_live = count_entries("/proc/self/fd");
        if (threads_live > max_threads) max_threads = threads_live;
        if (fds_live > max_fds) max_fds = fds_live;

        CHECK(a.shutdown() == XO_RESULT_OK, "round %d: shutdown: %s", round, a.last_error());
        CHECK(atomic_load(&cancelled.events) == seen && atomic_load(&cancelled.finals) == 0,
              "round %d: an event after cancel", round);
        CHECK(atomic_load(&done_now.finals) == 1 && atomic_load(&done_later.finals) == 1 &&
                  atomic_load(&checked.finals) == 1,
              "round %d: exactly one final event each", round);
        CHECK(dlclose(a.lib) == 0, "round %d: dlclose: %s", round, dlerror());
        /* -z nodelete: still mapped after its last dlclose (RTLD_NOLOAD only finds a loaded copy). */
        void *resident = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
        CHECK(resident != NULL, "round %d: the library was unloaded: is it still linked with -z nodelete?", round);
        if (resident) dlclose(resident);

        int threads = settle("/proc/self/task", threads0);
        int fds = settle("/proc/self/fd", fds0);
        CHECK(threads == threads0, "round %d: %d threads after shutdown, %d before the first round", round,
              threads, threads0);
        CHECK(fds == fds0, "round %d: %d descriptors after shutdown, %d before the first round", round, fds,
              fds0);
        if (round_failed) failed++; else passed++;
        if (threads != threads0 || fds != fds0) break; /* a leak grows: stop at the first */
    }

    sim_stop(&sim);
    fprintf(stderr, "dlopen_loop: %d rounds; threads %d before, up to %d while tracking; descriptors %d before, up to %d\n",
            rounds, threads0, max_threads, fds0, max_fds);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

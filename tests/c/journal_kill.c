/* Kill test of the purchase journal: a host tracks orders with a journal while the simulator
 * drives them, and is killed with SIGKILL at random points (before/after xo_track_order returns,
 * inside journal writes and compactions (XO_JOURNAL_TEST_PAUSE_US; XO_JOURNAL_TEST_COMPACT_BYTES
 * makes every fifth session compact in the middle of tracking), between DONE and
 * xo_acknowledge), then restarted and resumed. Checked against the simulator's truth:
 *   - every tracked order reaches its final status, as the simulator made it (no order lost);
 *   - a DONE is delivered until acknowledged, and never after xo_acknowledge returned;
 *   - after a last clean run that acknowledges everything, nothing is pending any more;
 *   - the journal always opens (xo_journal_status is OK in every run);
 *   - no token text in any file of the journal directory.
 * Usage: journal_kill <xo-sim binary> [kill points, default 1000]. Last line: "N passed, M failed". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "sim_control.h"
#include "xo_tracker.h"

/* {"sub":"kill-player"}; the signature part must never reach the disk. */
static const char *TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJraWxsLXBsYXllciJ9.KILL-TEST-SECRET-SIGNATURE";
#define MAX_ORDERS 8192
#define FIRST_ORDER 50000

static int passed, failed;
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
            printf(__VA_ARGS__);                                           \
            printf("\n");                                                  \
        }                                                                  \
    } while (0)

/* ---- child: a game session ---- */

static int log_fd = -1;
static volatile int finals_seen;
static int ack_percent = 70;
static unsigned child_seed;

static void log_line(const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    /* One write(2) per line on an O_APPEND file: lines are never torn by a kill. */
    if (write(log_fd, line, (size_t)n) != n) _exit(4);
}

static void on_event(void *userdata, const xo_event *e) {
    (void)userdata;
    if (e->kind != XO_EVENT_KIND_FINAL) return;
    log_line("final %lld %d %d", (long long)e->order_id, (int)e->outcome, (int)e->origin);
    if (e->outcome == XO_OUTCOME_DONE) {
        if (e->contents_json == NULL) log_line("no_contents %lld", (long long)e->order_id);
        if ((int)(rand_r(&child_seed) % 100) < ack_percent) {
            if (rand_r(&child_seed) % 4 == 0) usleep(1000 + rand_r(&child_seed) % 3000); /* the grant */
            log_line("acking %lld", (long long)e->order_id);
            xo_result r = xo_acknowledge(e->order_id);
            log_line("acked %lld %d", (long long)e->order_id, (int)r);
        }
    }
    __atomic_add_fetch(&finals_seen, 1, __ATOMIC_SEQ_CST);
}

static int child_main(int argc, char **argv) {
    /* child <port> <journal dir> <log> <ack percent> <seed> <order ids...> */
    if (argc < 7) return 2;
    int port = atoi(argv[2]);
    const char *dir = argv[3];
    log_fd = open(argv[4], O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (log_fd < 0) return 2;
    ack_percent = atoi(argv[5]);
    log_line("start");
    child_seed = (unsigned)strtoul(argv[6], NULL, 10);
    char centrifugo[128], legacy[128], api[128];
    snprintf(centrifugo, sizeof centrifugo, "ws://127.0.0.1:%d/connection/websocket", port);
    snprintf(legacy, sizeof legacy, "ws://127.0.0.1:%d/sub/order/status", port);
    snprintf(api, sizeof api, "http://127.0.0.1:%d/api", port);
    xo_config c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.project_id = 1001;
    c.centrifugo_url = centrifugo;
    c.legacy_socket_url = legacy;
    c.api_base_url = api;
    c.poll_interval_ms = 100;
    c.request_timeout_ms = 2000;
    c.backoff_min_ms = 20;
    c.backoff_max_ms = 100;
    c.allow_insecure_loopback = 1;
    c.journal_dir = dir;
    if (xo_configure(&c) != XO_RESULT_OK) {
        log_line("configure_error %s", xo_last_error());
        return 3;
    }
    if (xo_journal_status() != XO_RESULT_OK) {
        log_line("journal_error %s", xo_last_error());
        return 3;
    }
    int resumed = xo_resume_pending(TOKEN, on_event, NULL);
    log_line("resumed %d", resumed);
    if (resumed < 0) return 3;
    int expected = resumed;
    for (int i = 7; i < argc; i++) {
        long long id = atoll(argv[i]);
        int64_t h = xo_track_order(id, TOKEN, on_event, NULL);
        if (h > 0) {
            log_line("tracked %lld", id);
            expected++;
        } else {
            log_line("track_error %lld %lld", id, (long long)h);
        }
    }
    /* Wait for every final (or be killed first); bounded. */
    for (int waited = 0; __atomic_load_n(&finals_seen, __ATOMIC_SEQ_CST) < expected && waited < 10000; waited++)
        usleep(1000);
    int done = __atomic_load_n(&finals_seen, __ATOMIC_SEQ_CST) >= expected;
    log_line("session_end %d", done);
    xo_shutdown();
    return done ? 0 : 5;
}

/* ---- parent: the simulator, the kills and the checks ---- */

static char self_path[4096];

static pid_t spawn_child(const sim_process *sim, const char *dir, const char *log, int ack_percent, unsigned seed,
                         const long long *ids, int n_ids, int pause_us, int compact_bytes) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    char port[16], ack[16], seed_text[32], pause[16];
    snprintf(port, sizeof port, "%d", sim->port);
    snprintf(ack, sizeof ack, "%d", ack_percent);
    snprintf(seed_text, sizeof seed_text, "%u", seed);
    char *args[16];
    char id_text[4][24];
    int a = 0;
    args[a++] = self_path;
    args[a++] = "child";
    args[a++] = port;
    args[a++] = (char *)dir;
    args[a++] = (char *)log;
    args[a++] = ack;
    args[a++] = seed_text;
    for (int i = 0; i < n_ids && i < 4; i++) {
        snprintf(id_text[i], sizeof id_text[i], "%lld", ids[i]);
        args[a++] = id_text[i];
    }
    args[a] = NULL;
    if (pause_us > 0) {
        snprintf(pause, sizeof pause, "%d", pause_us);
        setenv("XO_JOURNAL_TEST_PAUSE_US", pause, 1);
    } else {
        unsetenv("XO_JOURNAL_TEST_PAUSE_US");
    }
    if (compact_bytes > 0) {
        char compact[16];
        snprintf(compact, sizeof compact, "%d", compact_bytes);
        setenv("XO_JOURNAL_TEST_COMPACT_BYTES", compact, 1); /* compactions in the middle of tracking */
    } else {
        unsetenv("XO_JOURNAL_TEST_COMPACT_BYTES");
    }
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0); /* not the simulator's stdin pipe: only the parent keeps it alive */
    execv(self_path, args);
    _exit(127);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* Per-order truth and what the host saw. */
typedef struct order_info {
    int planned;       /* 1 done, 2 canceled (the simulator's final status) */
    int tracked;       /* xo_track_order returned a handle */
    int finals;        /* final events seen */
    int wrong_outcome; /* a final that is not the simulator's */
    int acked;         /* xo_acknowledge returned OK */
    int after_ack;     /* DONE delivered after acked */
    int bad_origin;
    int owed_since;    /* session from which a DONE was delivered and not acknowledged (0: none) */
    int last_final;    /* session of the last final event */
} order_info;

static order_info orders[MAX_ORDERS];

static int check_no_token(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int clean = 1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        static char buf[4 << 20];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (memmem(buf, n, TOKEN, strlen(TOKEN)) || memmem(buf, n, "KILL-TEST-SECRET", 16)) clean = 0;
    }
    closedir(d);
    return clean;
}

/* Reads the log in order; returns how many "resumed" lines said a count > 0 in the last session. */
/* Where killed sessions stopped, from their last log line. */
static int ended_in_startup, ended_in_tracking, ended_after_done, ended_in_ack, ended_cleanly;
/* At-least-once across restarts: a session that completed must have redelivered every DONE owed
 * (delivered earlier, not acknowledged). */
static int complete_sessions, not_redelivered, redelivery_checks;

static void count_end(const char *last) {
    if (strncmp(last, "start", 5) == 0) ended_in_startup++;        /* configure, journal open + compaction, resume */
    else if (strncmp(last, "acking", 6) == 0) ended_in_ack++;      /* inside xo_acknowledge */
    else if (strncmp(last, "final", 5) == 0) ended_after_done++;   /* a final delivered, not acknowledged yet */
    else if (strncmp(last, "session_end", 11) == 0) ended_cleanly++;
    else ended_in_tracking++;                                     /* tracking, journal writes */
}

static void analyse(const char *log, int *journal_errors, int *last_resumed, int *missing_contents) {
    FILE *f = fopen(log, "r");
    char line[512], last[512] = "";
    *journal_errors = 0;
    *missing_contents = 0;
    int session = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "start", 5) == 0) {
            if (last[0]) count_end(last);
            session++;
        }
        snprintf(last, sizeof last, "%s", line);
        long long id;
        int a, b;
        if (sscanf(line, "final %lld %d %d", &id, &a, &b) == 3 && id >= FIRST_ORDER && id < FIRST_ORDER + MAX_ORDERS) {
            order_info *o = &orders[id - FIRST_ORDER];
            o->finals++;
            o->last_final = session;
            if (a == XO_OUTCOME_DONE && !o->owed_since && !o->acked) o->owed_since = session;
            int expected = o->planned == 1 ? XO_OUTCOME_DONE : XO_OUTCOME_CANCELED;
            if (a != expected) o->wrong_outcome++;
            if (a == XO_OUTCOME_DONE && o->acked) o->after_ack++;
            if (b != XO_ORIGIN_LIVE && b != XO_ORIGIN_REDELIVERED) o->bad_origin++;
        } else if (sscanf(line, "acking %lld", &id) == 1 && id >= FIRST_ORDER && id < FIRST_ORDER + MAX_ORDERS) {
            orders[id - FIRST_ORDER].owed_since = 0; /* maybe acknowledged from here on */
        } else if (strncmp(line, "session_end 1", 13) == 0) {
            complete_sessions++;
            for (int i = 0; i < MAX_ORDERS; i++) {
                order_info *o = &orders[i];
                if (o->owed_since && o->owed_since < session) redelivery_checks++;
                if (o->owed_since && o->owed_since < session && o->last_final != session) {
                    not_redelivered++;
                    if (not_redelivered <= 5)
                        printf("  order %d: DONE not redelivered in session %d (owed since %d)\n", FIRST_ORDER + i,
                               session, o->owed_since);
                }
            }
        } else if (sscanf(line, "acked %lld %d", &id, &a) == 2 && id >= FIRST_ORDER && id < FIRST_ORDER + MAX_ORDERS) {
            if (a == XO_RESULT_OK) orders[id - FIRST_ORDER].acked = 1;
        } else if (sscanf(line, "tracked %lld", &id) == 1 && id >= FIRST_ORDER && id < FIRST_ORDER + MAX_ORDERS) {
            orders[id - FIRST_ORDER].tracked = 1;
        } else if (sscanf(line, "resumed %d", &a) == 1) {
            *last_resumed = a;
        } else if (strncmp(line, "journal_error", 13) == 0 || strncmp(line, "configure_error", 15) == 0) {
            (*journal_errors)++;
            printf("  %s", line);
        } else if (strncmp(line, "no_contents", 11) == 0) {
            (*missing_contents)++;
        }
    }
    if (last[0]) count_end(last);
    if (f) fclose(f);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "child") == 0) return child_main(argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: %s <xo-sim> [kill points]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n <= 0) return 2;
    self_path[n] = '\0';
    int kills = argc >= 3 ? atoi(argv[2]) : 1000;
    if (kills > MAX_ORDERS / 6) kills = MAX_ORDERS / 6;
    sim_process sim;
    if (sim_start(argv[1], &sim) != 0) {
        printf("cannot start the simulator\n0 passed, 1 failed\n");
        return 1;
    }
    char base[] = "/tmp/xo-journal-kill-XXXXXX";
    if (!mkdtemp(base)) return 2;
    char dir[512], log[512];
    snprintf(dir, sizeof dir, "%s/journal", base);
    snprintf(log, sizeof log, "%s/host.log", base);
    unsigned seed = (unsigned)time(NULL);
    if (getenv("XO_KILL_SEED")) seed = (unsigned)strtoul(getenv("XO_KILL_SEED"), NULL, 10);
    printf("journal kill test: %d kill points, seed %u (XO_KILL_SEED to repeat)\n", kills, seed);
    srand(seed);

    double start = now_ms(), last_timeline_end = 0;
    long long next_order = FIRST_ORDER;
    int killed = 0, exited = 0, bad_exits = 0;
    int run = 0;
    /* Bounded by count and by time: a run that takes longer than this stops early (and fails the
     * kill-point count below) instead of holding the test command. */
    const double budget_ms = 240000;
    for (; killed < kills && run < kills * 5 && now_ms() - start < budget_ms; run++) {
        /* 0-2 new orders per session, each reaching done (85%) or canceled within ~10-60 ms. */
        long long ids[2];
        int n_ids = rand() % 3;
        for (int i = 0; i < n_ids; i++) {
            long long id = next_order++;
            int done = rand() % 100 < 85;
            orders[id - FIRST_ORDER].planned = done ? 1 : 2;
            int paid_after = 2 + rand() % 25, final_after = 2 + rand() % 30;
            char json[512];
            snprintf(json, sizeof json,
                     "{\"order_id\":%lld,\"status\":\"new\",\"timeline\":[{\"after_ms\":%d,\"status\":\"paid\"},"
                     "{\"after_ms\":%d,\"status\":\"%s\"}]}",
                     id, paid_after, final_after, done ? "done" : "canceled");
            if (sim_post(&sim, "/_sim/order", json) != 200) {
                printf("simulator refused an order\n");
                failed++;
            }
            double end = now_ms() + paid_after + final_after;
            if (end > last_timeline_end) last_timeline_end = end;
            ids[i] = id;
        }
        int pause_us = (run % 2) ? 300 + rand() % 700 : 0;
        int compact_bytes = (run % 5 == 0) ? 256 + rand() % 1792 : 0;
        pid_t pid = spawn_child(&sim, dir, log, 70, (unsigned)rand(), ids, n_ids, pause_us, compact_bytes);
        /* The kill point: anywhere from start-up to well after the orders are final. */
        int kill_after_us = rand() % 60000;
        usleep((useconds_t)kill_after_us);
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited++;
        } else {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) killed++;
            else exited++;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 5) {
            bad_exits++;
            printf("  session %d exited with %d\n", run, WEXITSTATUS(status));
        }
    }
    /* Let every timeline finish, then two clean sessions: the first acknowledges everything it gets,
     * the second must find nothing pending. */
    while (now_ms() < last_timeline_end + 50) usleep(10000);
    for (int final_run = 0; final_run < 2; final_run++) {
        pid_t pid = spawn_child(&sim, dir, log, 100, 1, NULL, 0, 0, 0);
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "clean session %d ended with status %d", final_run,
              status);
    }
    double elapsed = now_ms() - start;

    int journal_errors = 0, last_resumed = -1, missing_contents = 0;
    analyse(log, &journal_errors, &last_resumed, &missing_contents);
    int tracked = 0, lost = 0, wrong = 0, after_ack = 0, unacked_done = 0, bad_origin = 0, redelivered = 0;
    for (long long id = FIRST_ORDER; id < next_order; id++) {
        order_info *o = &orders[id - FIRST_ORDER];
        if (!o->tracked) continue;
        tracked++;
        if (o->finals == 0) {
            lost++;
            if (lost <= 5) printf("  order %lld (planned %d) was tracked but never reached its final event\n", id, o->planned);
        }
        if (o->wrong_outcome) wrong++;
        if (o->after_ack) {
            after_ack++;
            if (after_ack <= 5) printf("  order %lld: DONE delivered after xo_acknowledge returned\n", id);
        }
        if (o->planned == 1 && !o->acked && o->finals > 0) unacked_done++;
        if (o->finals > 1) redelivered++;
        if (o->bad_origin) bad_origin++;
    }
    printf("%d sessions: %d kill points (SIGKILL), %d ended on their own, in %.1f s; %d orders tracked, %d "
           "delivered more than once\n",
           run, killed, exited, elapsed / 1000.0, tracked, redelivered);
    printf("sessions stopped: %d in start-up (journal open, compaction, resume), %d while tracking, %d after a final "
           "before its acknowledgement, %d inside xo_acknowledge, %d after their work\n",
           ended_in_startup, ended_in_tracking, ended_after_done, ended_in_ack, ended_cleanly);
    CHECK(killed >= kills, "%d sessions were killed (want %d)", killed, kills);
    CHECK(bad_exits == 0, "%d sessions failed on their own", bad_exits);
    CHECK(journal_errors == 0, "the journal failed to open %d times", journal_errors);
    CHECK(tracked > kills / 4, "orders were tracked: %d", tracked);
    CHECK(lost == 0, "%d tracked orders never reached their final event", lost);
    CHECK(wrong == 0, "%d orders got a final other than the simulator's", wrong);
    printf("%d sessions completed their work: %d redeliveries of a DONE owed to them checked\n", complete_sessions,
           redelivery_checks);
    if (kills >= 500) /* small runs may have no completed session that owed one */
        CHECK(redelivery_checks > 0, "some completed session owed a redelivery (the check ran)");
    CHECK(not_redelivered == 0, "%d owed DONEs were not redelivered by a session that completed", not_redelivered);
    CHECK(after_ack == 0, "%d orders were delivered after their acknowledgement", after_ack);
    CHECK(bad_origin == 0, "%d orders had a bad origin", bad_origin);
    CHECK(missing_contents == 0, "%d DONE events without contents", missing_contents);
    CHECK(last_resumed == 0, "the last clean session found %d pending orders (want 0)", last_resumed);
    CHECK(check_no_token(dir), "no token text in the journal directory");
    char tmp_path[600];
    snprintf(tmp_path, sizeof tmp_path, "%s/journal.tmp", dir);
    CHECK(access(tmp_path, F_OK) != 0, "no compaction left half done (journal.tmp) after the clean sessions");
    (void)unacked_done;

    sim_stop(&sim);
    if (failed == 0) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
        if (system(cmd) != 0) printf("could not remove %s\n", base);
    } else {
        printf("kept %s for inspection\n", base);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

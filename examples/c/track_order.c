/* A small C program that tracks one order using only xo_tracker.h, the way a game loop would:
 * queued delivery, xo_dispatch called every frame on the main thread.
 *
 *   track_order <project_id> <order_id> <token>                       (Xsolla production)
 *   track_order <project_id> <order_id> <token> <api_base_url> <centrifugo_url>
 *
 * Loopback URLs (the simulator) are allowed with plain ws:// and http://. */
#define _POSIX_C_SOURCE 200809L
#include "xo_tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int finished;

static const char *outcome_name(xo_outcome o) {
    switch (o) {
        case XO_OUTCOME_DONE: return "done: grant the items";
        case XO_OUTCOME_CANCELED: return "canceled";
        case XO_OUTCOME_EXPIRED: return "expired";
        case XO_OUTCOME_TIMED_OUT: return "timed out";
        case XO_OUTCOME_NOT_FOUND: return "order not found";
        case XO_OUTCOME_UNAUTHORIZED: return "token refused";
        case XO_OUTCOME_FAILED: return "failed";
        default: return "none";
    }
}

static void on_event(void *userdata, const xo_event *e) {
    const char *label = (const char *)userdata;
    switch (e->kind) {
        case XO_EVENT_KIND_STATUS_CHANGED:
            printf("[%s] order %lld status %s\n", label, (long long)e->order_id, e->status_raw);
            break;
        case XO_EVENT_KIND_TRANSPORT_CHANGED:
            printf("[%s] transport %d %s\n", label, (int)e->transport_state, e->message);
            break;
        case XO_EVENT_KIND_TOKEN_EXPIRED:
            printf("[%s] token expired: a game would call xo_update_token now\n", label);
            break;
        case XO_EVENT_KIND_FINAL:
            printf("[%s] final: %s %s\n", label, outcome_name(e->outcome), e->message);
            if (e->contents_json) printf("[%s] contents: %s\n", label, e->contents_json);
            finished = 1;
            break;
        default:
            break;
    }
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s <project_id> <order_id> <token> [<api_base_url> <centrifugo_url>]\n", argv[0]);
        return 2;
    }
    xo_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.project_id = strtoll(argv[1], NULL, 10);
    config.delivery = XO_DELIVERY_QUEUED;
    if (argc == 6) {
        config.api_base_url = argv[4];
        config.centrifugo_url = argv[5];
        config.allow_insecure_loopback = 1; /* refused anyway for non-loopback plain-text URLs */
    }
    printf("xo-tracker %s\n", xo_version());
    if (xo_configure(&config) != XO_RESULT_OK) {
        fprintf(stderr, "configure: %s\n", xo_last_error());
        return 1;
    }
    int64_t handle = xo_track_order(strtoll(argv[2], NULL, 10), argv[3], on_event, "order");
    if (handle < 0) {
        fprintf(stderr, "track: %s: %s\n", xo_result_string((int32_t)handle), xo_last_error());
        return 1;
    }
    while (!finished) { /* the game loop: one frame every 16 ms */
        xo_dispatch(64);
        struct timespec frame = {0, 16 * 1000000L};
        nanosleep(&frame, NULL);
    }
    xo_shutdown();
    return 0;
}

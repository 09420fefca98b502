/* Starts the xo-sim binary and talks to its control API over plain sockets (test support only). */
#ifndef XO_SIM_CONTROL_H
#define XO_SIM_CONTROL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct sim_process {
    pid_t pid;
    int stdin_fd; /* closing it stops the simulator */
    int port;
    char centrifugo_url[128];
    char legacy_url[128];
    char api_url[128];
} sim_process;

/* Spawns `path`, waits for its "XO_SIM_LISTENING 127.0.0.1:<port>" line. Returns 0 on success. */
/* Spawns `path` with up to 8 extra arguments (`args`, NULL-terminated; NULL for none) and reads
 * the port it listens on. */
static int sim_start_with(const char *path, const char *const *args, sim_process *sim) {
    const char *argv[10] = {path};
    for (int i = 0; args && args[i] && i < 8; i++) argv[i + 1] = args[i];
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        close(to_child[1]);
        close(from_child[0]);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    FILE *out = fdopen(from_child[0], "r");
    char line[256];
    if (!out || !fgets(line, sizeof line, out)) return -1;
    int port = 0;
    if (sscanf(line, "XO_SIM_LISTENING 127.0.0.1:%d", &port) != 1) return -1;
    sim->pid = pid;
    sim->stdin_fd = to_child[1];
    sim->port = port;
    snprintf(sim->centrifugo_url, sizeof sim->centrifugo_url, "ws://127.0.0.1:%d/connection/websocket", port);
    snprintf(sim->legacy_url, sizeof sim->legacy_url, "ws://127.0.0.1:%d/sub/order/status", port);
    snprintf(sim->api_url, sizeof sim->api_url, "http://127.0.0.1:%d/api", port);
    return 0;
}

static inline int sim_start(const char *path, sim_process *sim) { return sim_start_with(path, NULL, sim); }

/* One HTTP request to the simulator; the response body goes to `body` (NUL-terminated).
 * Returns the HTTP status, or -1. */
static int sim_request(const sim_process *sim, const char *method, const char *path, const char *json, char *body,
                       size_t body_size) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)sim->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    char request[4096];
    size_t len = json ? strlen(json) : 0;
    int n = snprintf(request, sizeof request,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, len, json ? json : "");
    if (write(fd, request, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    char response[16384];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof response - 1 && (r = read(fd, response + got, sizeof response - 1 - got)) > 0) got += (size_t)r;
    response[got] = '\0';
    close(fd);
    int status = -1;
    sscanf(response, "HTTP/1.1 %d", &status);
    if (body && body_size) {
        const char *start = strstr(response, "\r\n\r\n");
        snprintf(body, body_size, "%s", start ? start + 4 : "");
    }
    return status;
}

static int sim_post(const sim_process *sim, const char *path, const char *json) {
    return sim_request(sim, "POST", path, json, NULL, 0);
}

static void sim_stop(sim_process *sim) {
    close(sim->stdin_fd);
    int status;
    waitpid(sim->pid, &status, 0);
}

#endif

// Test support: counting checks, an event recorder with bounded waits, and the simulator.
#ifndef XO_CPP_TEST_HARNESS_HPP
#define XO_CPP_TEST_HARNESS_HPP

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "xo_tracker.hpp"

extern "C" {
#include "../../../tests/c/sim_control.h"
}

namespace harness {

inline int& passed() {
    static int n = 0;
    return n;
}
inline int& failed() {
    static int n = 0;
    return n;
}
inline std::mutex& report_mutex() {
    static std::mutex m;
    return m;
}

inline void record(bool ok, const char* expr, const char* file, int line) {
    std::lock_guard<std::mutex> lock(report_mutex());
    if (ok) {
        passed()++;
    } else {
        failed()++;
        std::fprintf(stderr, "FAIL %s:%d: %s\n", file, line, expr);
    }
}

#define CHECK(cond) ::harness::record(static_cast<bool>(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b)                                                                          \
    do {                                                                                        \
        const bool check_eq_ok_ = ((a) == (b));                                                 \
        ::harness::record(check_eq_ok_, #a " == " #b, __FILE__, __LINE__);                      \
    } while (0)
// Checks an Expected and prints its error when it failed.
#define CHECK_OK(expected)                                                                      \
    do {                                                                                        \
        const auto& check_ok_ = (expected);                                                     \
        ::harness::record(static_cast<bool>(check_ok_), #expected " succeeds", __FILE__, __LINE__); \
        if (!check_ok_)                                                                         \
            std::fprintf(stderr, "    error %d: %s\n", static_cast<int>(check_ok_.error().code()), \
                         check_ok_.error().message().c_str());                                  \
    } while (0)

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Records every event of one tracker (owned copies), thread-safely, with bounded waits.
class Recorder {
public:
    void add(const xo::EventView& e) {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(e.to_owned());
        threads_.push_back(std::this_thread::get_id());
        changed_.notify_all();
    }

    // A callback feeding this recorder; `extra` runs after recording (still inside the callback).
    xo::EventCallback callback(std::function<void(const xo::EventView&)> extra = nullptr) {
        return [this, extra](const xo::EventView& e) {
            add(e);
            if (extra) extra(e);
        };
    }

    template <class Pred>
    bool wait_for(Pred pred, int ms) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, milliseconds(ms), [&] { return pred(events_); });
    }

    bool wait_final(int ms = 10000) {
        return wait_for([](const std::vector<xo::Event>& ev) { return count_last(ev) > 0; }, ms);
    }
    bool wait_any(int ms = 5000) {
        return wait_for([](const std::vector<xo::Event>& ev) { return !ev.empty(); }, ms);
    }

    std::vector<xo::Event> events() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return events_;
    }
    std::vector<std::thread::id> threads() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return threads_;
    }
    size_t count() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return events_.size();
    }
    int finals() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return count_last(events_);
    }
    xo::Event last() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return events_.empty() ? xo::Event() : events_.back();
    }
    int index_of_status(xo::OrderStatus s) const {
        std::lock_guard<std::mutex> lock(mutex_);
        for (size_t i = 0; i < events_.size(); i++)
            if (events_[i].kind == xo::EventKind::StatusChanged && events_[i].status == s) return static_cast<int>(i);
        return -1;
    }
    bool has_transport(xo::TransportState t) const {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& e : events_)
            if (e.kind == xo::EventKind::TransportChanged && e.transport_state == t) return true;
        return false;
    }
    bool has_kind(xo::EventKind k) const {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& e : events_)
            if (e.kind == k) return true;
        return false;
    }

    static int count_last(const std::vector<xo::Event>& ev) {
        int n = 0;
        for (const auto& e : ev) n += e.is_last() ? 1 : 0;
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<xo::Event> events_;
    std::vector<std::thread::id> threads_;
};

// The simulator process, started once per run.
inline sim_process& sim() {
    static sim_process s;
    return s;
}

inline bool sim_order(int64_t id, const char* status, const char* later = nullptr, int after_ms = 0,
                      bool push = true) {
    char json[512];
    if (later)
        std::snprintf(json, sizeof json,
                      "{\"order_id\":%lld,\"status\":\"%s\",\"timeline\":[{\"after_ms\":%d,\"status\":\"%s\"}],"
                      "\"push\":%s}",
                      static_cast<long long>(id), status, after_ms, later, push ? "true" : "false");
    else
        std::snprintf(json, sizeof json, "{\"order_id\":%lld,\"status\":\"%s\",\"push\":%s}",
                      static_cast<long long>(id), status, push ? "true" : "false");
    return sim_post(&sim(), "/_sim/order", json) == 200;
}

inline bool sim_status(int64_t id, const char* status) {
    char json[128];
    std::snprintf(json, sizeof json, "{\"order_id\":%lld,\"status\":\"%s\"}", static_cast<long long>(id), status);
    return sim_post(&sim(), "/_sim/status", json) == 200;
}

inline bool sim_fault(const char* json) { return sim_post(&sim(), "/_sim/fault", json) == 200; }

inline std::string sim_stats() {
    char body[16384];
    if (sim_request(&sim(), "GET", "/_sim/stats", nullptr, body, sizeof body) != 200) return std::string();
    return body;
}

// A configuration for the simulator with fast real-time timers.
inline xo::Config sim_config(xo::Delivery delivery = xo::Delivery::Direct) {
    xo::Config c;
    c.project_id = 1001;
    c.centrifugo_url = sim().centrifugo_url;
    c.legacy_socket_url = sim().legacy_url;
    c.api_base_url = sim().api_url;
    c.delivery = delivery;
    c.poll_interval_ms = 100;
    c.backoff_min_ms = 50;
    c.backoff_max_ms = 200;
    c.allow_insecure_loopback = true;
    return c;
}

// Pumps queued delivery on this thread until `done()` or `ms` pass.
template <class Done>
inline bool pump_until(const xo::Session& session, Done done, int ms) {
    const auto deadline = Clock::now() + milliseconds(ms);
    while (!done()) {
        if (Clock::now() >= deadline) return done();
        auto ran = session.dispatch(64);
        if (!ran) return false;
        if (*ran == 0) std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
}

}  // namespace harness

#endif

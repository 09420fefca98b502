// Tests xo_tracker.hpp against the real library and the xo-sim simulator.
// Usage: test_wrapper <path to xo-sim>. Prints "ok|FAIL <test> (<ms> ms)" per test, then
// "N passed, N failed" counting tests (not checks), and exits non-zero on a failure.
// Built three ways by ../test.sh: plain, -fno-exceptions -fno-rtti, and -fsanitize=address,undefined.
#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace harness;

namespace {

const char* const TOKEN = "cpp-test-secret-token";

bool leaks_token(const std::vector<xo::Event>& events) {
    for (const auto& e : events)
        if (e.message.find(TOKEN) != std::string::npos || e.status_raw.find(TOKEN) != std::string::npos) return true;
    return false;
}

void test_version_and_enums() {
    CHECK(xo::abi_compatible());
    CHECK_EQ(xo::abi_version(), static_cast<uint32_t>(XO_ABI_VERSION));
    CHECK(xo::version().size() >= 5);
    CHECK(xo::describe(xo::ResultCode::NotConfigured) != xo::describe(static_cast<xo::ResultCode>(12345)));
    CHECK_EQ(xo::to_string(xo::OrderStatus::Done), std::string_view("done"));
    CHECK_EQ(xo::to_string(xo::Outcome::TimedOut), std::string_view("timed_out"));
    CHECK_EQ(xo::to_string(xo::EventKind::CheckResult), std::string_view("check_result"));
    CHECK_EQ(xo::to_string(xo::TransportState::Polling), std::string_view("polling"));
    xo::Error none;
    CHECK(none.ok());
    xo::Expected<int> bad(xo::Error(xo::ResultCode::Ok, ""));
    CHECK(!bad && bad.error().code() == xo::ResultCode::Internal);  // an "Ok" error is not a value
}

void test_errors() {
    // Nothing configured yet.
    xo::Session idle;
    CHECK(!idle.active());
    auto t = idle.track_order(1, TOKEN, [](const xo::EventView&) {});
    CHECK(!t && t.error().code() == xo::ResultCode::NotConfigured);
    CHECK_OK(idle.shutdown());  // idempotent on an inactive session

    xo::Config c = sim_config();
    c.project_id = 0;
    auto s = xo::Session::start(c);
    CHECK(!s && s.error().code() == xo::ResultCode::InvalidArgument);

    c = sim_config();
    c.allow_insecure_loopback = false;
    s = xo::Session::start(c);
    CHECK(!s && s.error().message().find("allow_insecure_loopback") != std::string::npos);

    c = sim_config();
    c.api_base_url.push_back('\0');
    s = xo::Session::start(c);
    CHECK(!s && s.error().code() == xo::ResultCode::InvalidArgument);

    c = sim_config();
    c.transport = static_cast<xo::Transport>(99);
    s = xo::Session::start(c);
    CHECK(!s && s.error().code() == xo::ResultCode::InvalidArgument);

    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    auto second = xo::Session::start(sim_config());
    CHECK(!second && second.error().code() == xo::ResultCode::Busy);

    Recorder r;
    auto empty_token = session->track_order(1, "", r.callback());
    CHECK(!empty_token && empty_token.error().code() == xo::ResultCode::InvalidArgument);
    auto nul_token = session->track_order(1, std::string_view("ab\0cd", 5), r.callback());
    CHECK(!nul_token && nul_token.error().code() == xo::ResultCode::InvalidArgument);
    auto bad_utf8 = session->track_order(1, "\xc3\x28", r.callback());
    CHECK(!bad_utf8 && bad_utf8.error().code() == xo::ResultCode::InvalidUtf8);
    auto bad_order = session->track_order(0, TOKEN, r.callback());
    CHECK(!bad_order && bad_order.error().code() == xo::ResultCode::InvalidArgument);
    auto bad_check = session->check_order(-1, TOKEN, r.callback());
    CHECK(!bad_check && bad_check.error().code() == xo::ResultCode::InvalidArgument);
    auto no_callback = session->track_order(1, TOKEN, xo::EventCallback());
    CHECK(!no_callback && no_callback.error().code() == xo::ResultCode::NullArgument);
    std::string huge(XO_MAX_TOKEN_BYTES + 1, 'a');
    auto too_long = session->track_order(1, huge, r.callback());
    CHECK(!too_long && too_long.error().message().find("longer than") != std::string::npos);
    CHECK(too_long.error().message().find(TOKEN) == std::string::npos);

    xo::Tracker empty;
    CHECK(!empty);
    CHECK(!empty.cancel());
    CHECK(empty.update_token(TOKEN).error().code() == xo::ResultCode::UnknownHandle);
    CHECK_OK(session->dispatch());  // direct mode: nothing to run
    CHECK_EQ(*session->dispatch(), 0);
    CHECK_EQ(r.count(), 0u);

    // A moved-from session is inactive and does not shut the library down.
    xo::Session moved = std::move(*session);
    CHECK(moved.active());
    CHECK(!session->active());
    CHECK(!session->track_order(1, TOKEN, r.callback()));
    CHECK_OK(moved.shutdown());
    CHECK(!moved.active());
    CHECK(!moved.track_order(1, TOKEN, r.callback()));
}

void test_success_over_socket() {
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    // The order becomes done only once the tracker has seen "new" over a connected socket: a
    // timeline started at order creation raced the tracker's start-up (lost under valgrind).
    CHECK(sim_order(801, "new"));
    Recorder r;
    auto tracker = session->track_order(801, TOKEN, r.callback());
    CHECK_OK(tracker);
    CHECK(tracker && tracker->handle() > 0 && tracker->order_id() == 801);
    CHECK(r.wait_for(
        [](const std::vector<xo::Event>& ev) {
            bool is_new = false, connected = false;
            for (const auto& e : ev) {
                is_new = is_new || (e.kind == xo::EventKind::StatusChanged && e.status == xo::OrderStatus::New);
                connected = connected || (e.kind == xo::EventKind::TransportChanged &&
                                          e.transport_state == xo::TransportState::SocketConnected);
            }
            return is_new && connected;
        },
        20000));
    CHECK(sim_status(801, "done"));
    CHECK(r.wait_final(20000));
    CHECK_EQ(r.finals(), 1);
    xo::Event last = r.last();
    CHECK(last.kind == xo::EventKind::Final);
    CHECK(last.outcome == xo::Outcome::Done);
    CHECK(last.status == xo::OrderStatus::Done);
    CHECK(last.contents_json && last.contents_json->find("\"items\"") != std::string::npos);
    // The owned typed copy of the simulator's sample contents.
    CHECK(last.contents.has_value());
    if (last.contents) {
        const xo::Contents& c = *last.contents;
        CHECK(!c.is_free);
        CHECK(c.price && c.price->amount == "30" && c.price->currency == "USD");
        CHECK(c.virtual_price && c.virtual_price->amount_without_discount == "150" &&
              c.virtual_price->currency == "test_vc");
        CHECK_EQ(c.items.size(), 1u);
        if (c.items.size() == 1) {
            CHECK(c.items[0].sku == "com.xsolla.item_1");
            CHECK_EQ(c.items[0].quantity, 1);
            CHECK(c.items[0].price && c.items[0].price->amount == "30");
            CHECK(!c.items[0].virtual_price);
        }
    }
    CHECK(last.handle == tracker->handle());
    CHECK(r.index_of_status(xo::OrderStatus::New) >= 0);
    CHECK(r.index_of_status(xo::OrderStatus::New) < r.index_of_status(xo::OrderStatus::Done));
    CHECK(r.has_transport(xo::TransportState::SocketConnected));
    CHECK(!leaks_token(r.events()));
    bool on_library_thread = true;
    for (auto id : r.threads()) on_library_thread = on_library_thread && id != std::this_thread::get_id();
    CHECK(on_library_thread);
    // Already final. (xo_cancel may still answer OK for a moment: the library forgets the handle
    // only when its task ends, just after the final event; see the README.)
    (void)tracker->cancel();
    CHECK(!*tracker);
}

void test_fallback_to_polling() {
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_fault("{\"fault\":\"centrifugo_refuse\",\"n\":1000000}"));
    // Done only once the tracker polls: a slow start (valgrind) must not see done in its very
    // first request, before the socket was refused.
    CHECK(sim_order(802, "new"));
    Recorder r;
    auto tracker = session->track_order(802, "fallback-token", r.callback());
    CHECK_OK(tracker);
    CHECK(r.wait_for(
        [](const std::vector<xo::Event>& ev) {
            for (const auto& e : ev)
                if (e.kind == xo::EventKind::TransportChanged && e.transport_state == xo::TransportState::Polling)
                    return true;
            return false;
        },
        20000));
    CHECK(sim_status(802, "done"));
    CHECK(r.wait_final(20000));
    CHECK(r.last().outcome == xo::Outcome::Done);
    CHECK(r.has_transport(xo::TransportState::Polling));
    CHECK(!r.has_transport(xo::TransportState::SocketConnected));
    CHECK(sim_fault("{\"fault\":\"clear\"}"));
}

void test_queued_delivery_runs_on_the_dispatching_thread() {
    auto session = xo::Session::start(sim_config(xo::Delivery::Queued));
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_order(803, "done"));
    Recorder r;
    auto tracker = session->track_order(803, TOKEN, r.callback());
    CHECK_OK(tracker);
    CHECK(!r.wait_any(300));  // nothing runs without dispatch
    CHECK(pump_until(*session, [&] { return r.finals() > 0; }, 10000));
    CHECK(r.last().outcome == xo::Outcome::Done);
    bool all_here = !r.threads().empty();
    for (auto id : r.threads()) all_here = all_here && id == std::this_thread::get_id();
    CHECK(all_here);
}

void test_check_order() {
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_order(804, "paid"));
    Recorder r;
    auto check = session->check_order(804, TOKEN, r.callback());
    CHECK_OK(check);
    CHECK(r.wait_final());
    CHECK_EQ(r.count(), 1u);
    xo::Event e = r.last();
    CHECK(e.kind == xo::EventKind::CheckResult);
    CHECK(e.status == xo::OrderStatus::Paid);
    CHECK(e.contents_json.has_value());

    Recorder missing;
    auto check_missing = session->check_order(899999, TOKEN, missing.callback());
    CHECK_OK(check_missing);
    CHECK(missing.wait_final());
    CHECK(missing.last().outcome == xo::Outcome::NotFound);
}

// The typed contents read through the views inside the callback (queued: inside dispatch()),
// for an answer with type drift: numbers as amounts, "true" as is_free, a non-object item.
void test_typed_contents_view() {
    auto session = xo::Session::start(sim_config(xo::Delivery::Queued));
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_post(&sim(), "/_sim/order",
                   "{\"order_id\":805,\"status\":\"done\",\"content\":{\"is_free\":\"true\","
                   "\"virtual_price\":{\"amount\":10,\"amount_without_discount\":12,\"currency\":\"gold\"},"
                   "\"items\":[{\"sku\":\"gem\",\"quantity\":3,\"is_free\":\"true\"},42,"
                   "{\"sku\":\"sword\",\"quantity\":1,\"price\":{\"amount\":2.5,\"currency\":\"EUR\"}}]}}") == 200);
    bool seen = false;
    std::vector<std::string> skus;
    int64_t quantities = 0;
    bool fields_ok = false;
    auto check = session->check_order(805, TOKEN, [&](const xo::EventView& e) {
        seen = true;
        const xo::ContentsView c = e.contents();
        if (!c) return;
        for (xo::ItemView item : c) {
            skus.emplace_back(item.sku());
            quantities += item.quantity();
        }
        fields_ok = c.is_free() && !c.price() && c.price().amount().empty() && c.virtual_price() &&
                    c.virtual_price().amount() == "10" && c.virtual_price().amount_without_discount() == "12" &&
                    c.size() == 2 && c[0].is_free() && !c[0].price() && !c[1].is_free() && c[1].price() &&
                    c[1].price().amount() == "2.5" && c[1].price().currency() == "EUR" && !c[1].virtual_price();
    });
    CHECK_OK(check);
    CHECK(pump_until(*session, [&] { return seen; }, 5000));
    CHECK(fields_ok);
    CHECK((skus == std::vector<std::string>{"gem", "sword"}));
    CHECK_EQ(quantities, 4);
    // An event without contents gives an empty view.
    xo_event bare{};
    bare.struct_size = sizeof bare;
    CHECK(!xo::EventView(bare).contents() && xo::EventView(bare).contents().empty());
    // An older library's shorter event is not read past its end.
    bare.struct_size = static_cast<uint32_t>(offsetof(xo_event, contents));
    bare.contents = reinterpret_cast<const xo_contents*>(&bare);
    CHECK(!xo::EventView(bare).contents());
}

// A heap object the callback writes to: freed as soon as its tracker is gone, so a late callback
// is a heap-use-after-free under AddressSanitizer, and a counted failure otherwise.
struct Probe {
    std::atomic<int> events{0};
    std::atomic<bool> tracker_gone{false};
    std::atomic<int> after_gone{0};
};

void test_cancel_by_destructor() {
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_order(805, "new"));
    Recorder r;
    auto probe = std::make_unique<Probe>();
    {
        auto tracker = session->track_order(805, TOKEN, [&r, p = probe.get()](const xo::EventView& e) {
            r.add(e);
            p->events++;
            if (p->tracker_gone.load()) p->after_gone++;
        });
        CHECK_OK(tracker);
        CHECK(r.wait_any());
    }  // destructor cancels
    probe->tracker_gone = true;
    CHECK_EQ(probe->after_gone.load(), 0);
    const size_t seen = r.count();
    probe.reset();  // any callback from now on would touch freed memory
    CHECK(sim_status(805, "done"));
    CHECK(!r.wait_for([&](const std::vector<xo::Event>& ev) { return ev.size() > seen; }, 500));
    CHECK_EQ(r.count(), seen);
}

void test_cancel_by_move_assignment() {
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_order(806, "new"));
    CHECK(sim_order(807, "new"));
    Recorder first, second;
    auto a = session->track_order(806, TOKEN, first.callback());
    auto b = session->track_order(807, TOKEN, second.callback());
    CHECK_OK(a);
    CHECK_OK(b);
    if (!a || !b) return;
    CHECK(first.wait_any());
    CHECK(second.wait_any());
    xo::Tracker tracker = std::move(*a);
    CHECK(!*a);  // moved-from is empty; its destructor does nothing
    const int64_t second_handle = b->handle();
    tracker = std::move(*b);  // cancels 806, adopts 807
    CHECK_EQ(tracker.handle(), second_handle);
    CHECK_EQ(tracker.order_id(), 807);
    const size_t first_seen = first.count();
    CHECK(sim_status(806, "done"));
    CHECK(sim_status(807, "done"));
    CHECK(second.wait_final());
    CHECK(second.last().outcome == xo::Outcome::Done);
    CHECK(!first.wait_for([&](const std::vector<xo::Event>& ev) { return ev.size() > first_seen; }, 300));
    CHECK_EQ(first.finals(), 0);
    tracker = xo::Tracker();  // assigning an empty tracker cancels (already final: no-op)
    CHECK(!tracker);
}

// The tracker is destroyed from inside its own callback: no further call, and the callback's
// captures stay valid until it returns (checked by ASan).
void destroy_inside_own_callback(xo::Delivery delivery) {
    auto session = xo::Session::start(sim_config(delivery));
    CHECK_OK(session);
    if (!session) return;
    const int64_t order = delivery == xo::Delivery::Direct ? 808 : 809;
    CHECK(sim_order(order, "new", "done", 200));
    struct Holder {
        std::optional<xo::Tracker> tracker;
        std::mutex mutex;  // the callback may run before track_order returns (direct mode)
    } holder;
    Recorder r;
    auto big_capture = std::make_shared<std::vector<int>>(1000, 7);
    std::atomic<int> calls{0};
    std::atomic<bool> capture_ok{true};
    {
        // Held until the tracker is stored: a direct-mode callback waits for it.
        std::lock_guard<std::mutex> lock(holder.mutex);
        auto started = session->track_order(order, TOKEN, [&, big_capture](const xo::EventView& e) {
            calls++;
            std::lock_guard<std::mutex> inner(holder.mutex);
            holder.tracker.reset();  // destroys this very callback's owner
            // Still running inside the callback: its captures must be alive.
            if (big_capture->size() != 1000 || (*big_capture)[999] != 7) capture_ok = false;
            r.add(e);
        });
        CHECK_OK(started);
        if (!started) return;
        holder.tracker.emplace(std::move(*started));
    }
    big_capture.reset();
    if (delivery == xo::Delivery::Queued) {
        CHECK(pump_until(*session, [&] { return r.count() > 0; }, 5000));
        pump_until(*session, [] { return false; }, 500);
    } else {
        CHECK(r.wait_any());
        CHECK(!r.wait_final(500));
    }
    CHECK_EQ(calls.load(), 1);
    CHECK(capture_ok.load());
    CHECK(!holder.tracker.has_value());
}

void test_destroy_inside_own_callback() {
    destroy_inside_own_callback(xo::Delivery::Direct);
    destroy_inside_own_callback(xo::Delivery::Queued);
}

// One tracker's callback destroys another tracker.
void test_destroy_other_inside_callback() {
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_order(810, "new"));
    CHECK(sim_order(811, "new"));
    Recorder victim;
    std::mutex m;
    std::optional<xo::Tracker> other;
    auto v = session->track_order(811, TOKEN, victim.callback());
    CHECK_OK(v);
    if (!v) return;
    CHECK(victim.wait_any());
    {
        std::lock_guard<std::mutex> lock(m);
        other.emplace(std::move(*v));
    }
    Recorder killer;
    auto k = session->track_order(810, TOKEN, killer.callback([&](const xo::EventView& e) {
        if (e.kind() != xo::EventKind::StatusChanged) return;
        std::lock_guard<std::mutex> lock(m);
        other.reset();
    }));
    CHECK_OK(k);
    CHECK(killer.wait_for(
        [](const std::vector<xo::Event>& ev) {
            return std::any_of(ev.begin(), ev.end(),
                               [](const xo::Event& e) { return e.kind == xo::EventKind::StatusChanged; });
        },
        5000));
    const size_t seen = victim.count();
    CHECK(sim_status(811, "done"));
    CHECK(!victim.wait_for([&](const std::vector<xo::Event>& ev) { return ev.size() > seen; }, 400));
    CHECK_EQ(victim.finals(), 0);
}

void test_update_token_after_expiry() {
    xo::Config config = sim_config();
    config.token_wait_ms = 10000;
    auto session = xo::Session::start(config);
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_order(812, "new"));
    const std::string old_token = "cpp-expiring-token";
    Recorder r;
    std::mutex m;
    std::optional<xo::Tracker> tracker;
    std::atomic<int> updates{0};
    std::atomic<bool> update_ok{true};
    auto started = session->track_order(812, old_token, r.callback([&](const xo::EventView& e) {
        if (e.kind() != xo::EventKind::TokenExpired) return;
        std::lock_guard<std::mutex> lock(m);
        if (tracker && !tracker->update_token("cpp-fresh-token")) update_ok = false;
        updates++;
    }));
    CHECK_OK(started);
    if (!started) return;
    {
        std::lock_guard<std::mutex> lock(m);
        tracker.emplace(std::move(*started));
    }
    CHECK(r.wait_for([](const std::vector<xo::Event>& ev) { return !ev.empty(); }, 5000));
    char json[128];
    std::snprintf(json, sizeof json, "{\"token\":\"%s\"}", old_token.c_str());
    CHECK(sim_post(&sim(), "/_sim/expire_token", json) == 200);
    CHECK(r.wait_for([](const std::vector<xo::Event>& ev) {
        return std::any_of(ev.begin(), ev.end(), [](const xo::Event& e) { return e.kind == xo::EventKind::TokenExpired; });
    }, 8000));
    CHECK(sim_status(812, "done"));
    CHECK(r.wait_final());
    CHECK(r.last().outcome == xo::Outcome::Done);
    CHECK(updates.load() >= 1);
    CHECK(update_ok.load());
    std::lock_guard<std::mutex> lock(m);
    CHECK(tracker && tracker->update_token(std::string_view("x\0y", 3)).error().code() ==
                         xo::ResultCode::InvalidArgument);
}

// Runs `fn` when the scope ends (restores process-wide state even when a check returns early).
template <class Fn>
struct Finally {
    Fn fn;
    ~Finally() { fn(); }
};
template <class Fn>
Finally<Fn> finally(Fn fn) {
    return Finally<Fn>{fn};
}

void test_app_lifecycle() {
    auto restore = finally([] { (void)xo::set_app_active(true); });
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_order(813, "new"));
    Recorder r;
    auto tracker = session->track_order(813, TOKEN, r.callback());
    CHECK_OK(tracker);
    CHECK(r.wait_for([](const std::vector<xo::Event>& ev) {
        return std::any_of(ev.begin(), ev.end(), [](const xo::Event& e) {
            return e.transport_state == xo::TransportState::SocketConnected;
        });
    }, 5000));
    CHECK_OK(session->set_app_active(false));
    // Wait until the paused library has closed its socket, then change the status.
    const auto deadline = Clock::now() + milliseconds(3000);
    while (sim_stats().find("\"centrifugo_live\":0") == std::string::npos && Clock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(10));
    CHECK(sim_stats().find("\"centrifugo_live\":0") != std::string::npos);
    CHECK(sim_status(813, "done"));
    CHECK(!r.wait_final(400));  // paused: no request, no socket
    const auto resumed = Clock::now();
    CHECK_OK(session->set_app_active(true));
    CHECK(r.wait_final(3000));
    CHECK(Clock::now() - resumed < milliseconds(2000));
    CHECK(r.last().outcome == xo::Outcome::Done);
    CHECK_OK(session->network_changed());
}

void test_shutdown_with_live_trackers_then_restart() {
    for (int round = 0; round < 2; round++) {
        auto session = xo::Session::start(sim_config());
        CHECK_OK(session);
        if (!session) return;
        const int64_t order = 814 + round;
        CHECK(sim_order(order, "new"));
        Recorder r;
        auto probe = std::make_unique<Probe>();
        auto tracker = session->track_order(order, TOKEN, [&r, p = probe.get()](const xo::EventView& e) {
            r.add(e);
            p->events++;
        });
        CHECK_OK(tracker);
        CHECK(r.wait_any());
        CHECK_OK(session->shutdown());  // no callback once it returns
        probe.reset();
        const size_t seen = r.count();
        CHECK(sim_status(order, "done"));
        CHECK(!r.wait_for([&](const std::vector<xo::Event>& ev) { return ev.size() > seen; }, 300));
        CHECK(!session->track_order(order, TOKEN, r.callback()));
        // The tracker outlives the session: its destructor must be harmless.
    }
}

// A tracker destroyed while another thread shuts the session down and its callback is running:
// the destructor must not free the callback under it (the library's xo_cancel answers at once
// while a shutdown is in progress; the wrapper waits for the running call itself).
void test_tracker_destroyed_during_shutdown() {
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_order(817, "new"));
    std::atomic<bool> entered{false};
    std::atomic<bool> finished{false};
    auto payload = std::make_shared<std::vector<int>>(64, 1);
    auto tracker = session->track_order(817, TOKEN, [&, payload](const xo::EventView&) {
        if (entered.exchange(true)) return;
        std::this_thread::sleep_for(milliseconds(200));
        (*payload)[63] = 2;  // touches the callback's captures after the sleep (ASan checks)
        finished = true;
    });
    payload.reset();
    CHECK_OK(tracker);
    if (!tracker) return;
    const auto deadline = Clock::now() + milliseconds(5000);
    while (!entered.load() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(1));
    CHECK(entered.load());
    std::thread stopper([&] { CHECK_OK(session->shutdown()); });
    std::this_thread::sleep_for(milliseconds(20));  // let the shutdown start
    *tracker = xo::Tracker();                      // destroy while the callback sleeps
    CHECK(finished.load());                        // returned only after the call ended
    stopper.join();
}

void test_log_callback() {
    std::atomic<int> lines{0};
    std::atomic<bool> leaked{false};
    std::atomic<int> nested{0};
    auto restore = finally([] { (void)xo::clear_log_callback(); });  // the callback uses these locals
    CHECK(!xo::set_log_callback(xo::LogCallback()));
    CHECK(!xo::set_log_callback([](xo::LogLevel, std::string_view) {}, static_cast<xo::LogLevel>(9)));
    CHECK_OK(xo::set_log_callback(
        [&](xo::LogLevel level, std::string_view line) {
            lines++;
            if (line.find(TOKEN) != std::string_view::npos) leaked = true;
            if (level < xo::LogLevel::Error || level > xo::LogLevel::Debug) leaked = true;
            if (xo::clear_log_callback().error().code() == xo::ResultCode::InCallback) nested++;
        },
        xo::LogLevel::Debug));
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;
    CHECK(sim_order(816, "done"));
    Recorder r;
    auto tracker = session->track_order(816, TOKEN, r.callback());
    CHECK_OK(tracker);
    CHECK(r.wait_final());
    CHECK(lines.load() > 0);
    CHECK(nested.load() > 0);
    CHECK(!leaked.load());
    CHECK_OK(xo::clear_log_callback());
    const int after_clear = lines.load();
    CHECK_OK(session->shutdown());
    CHECK_EQ(lines.load(), after_clear);
}

#if XO_TRACKER_HPP_EXCEPTIONS
struct CaughtByHook {
    std::mutex mutex;
    std::vector<std::string> seen;  // "<callback>: <what>"
};
CaughtByHook& caught_by_hook() {
    static CaughtByHook c;
    return c;
}
void record_caught(const char* callback, const char* what) {
    std::lock_guard<std::mutex> lock(caught_by_hook().mutex);
    caught_by_hook().seen.push_back(std::string(callback) + ": " + what);
}
bool hook_saw(const std::string& text) {
    std::lock_guard<std::mutex> lock(caught_by_hook().mutex);
    for (const auto& s : caught_by_hook().seen)
        if (s == text) return true;
    return false;
}
#endif

// An event or log callback that throws: the trampolines are noexcept and catch it, the process
// survives, the exception is reported (log callback, then the hook), and later events still arrive.
// Without exceptions there is nothing to throw: the trampolines are still noexcept.
void test_throwing_callbacks_are_contained() {
    CHECK(noexcept(xo::detail::event_trampoline(nullptr, nullptr)));
    CHECK(noexcept(xo::detail::log_trampoline(nullptr, 0, nullptr)));
#if XO_TRACKER_HPP_EXCEPTIONS
    std::mutex log_mutex;
    std::vector<std::string> errors;
    auto restore = finally([] {
        (void)xo::clear_log_callback();
        (void)xo::set_callback_exception_hook(nullptr);
    });
    CHECK_OK(xo::set_log_callback(
        [&](xo::LogLevel level, std::string_view line) {
            std::lock_guard<std::mutex> lock(log_mutex);
            if (level == xo::LogLevel::Error) errors.emplace_back(line);
        },
        xo::LogLevel::Error));
    auto session = xo::Session::start(sim_config());
    CHECK_OK(session);
    if (!session) return;

    // 1. Every event callback throws std::runtime_error: reported through the log callback.
    CHECK(sim_order(830, "new"));
    Recorder r;
    auto tracker = session->track_order(830, TOKEN, r.callback([](const xo::EventView&) {
        throw std::runtime_error("thrown by the test's event callback");
    }));
    CHECK_OK(tracker);
    CHECK(r.wait_for(
        [](const std::vector<xo::Event>& ev) {
            for (const auto& e : ev)
                if (e.kind == xo::EventKind::StatusChanged && e.status == xo::OrderStatus::New) return true;
            return false;
        },
        20000));
    CHECK(sim_status(830, "paid"));
    CHECK(r.wait_for([](const std::vector<xo::Event>& ev) {
        for (const auto& e : ev)
            if (e.kind == xo::EventKind::StatusChanged && e.status == xo::OrderStatus::Paid) return true;
        return false;
    }, 20000));
    CHECK(sim_status(830, "done"));
    CHECK(r.wait_final(20000));  // events after the throws still arrive, the final one too
    CHECK(r.last().outcome == xo::Outcome::Done);
    {
        std::lock_guard<std::mutex> lock(log_mutex);
        CHECK(errors.size() >= 3);  // new, paid, final (and transport events) each threw
        CHECK(std::any_of(errors.begin(), errors.end(), [](const std::string& line) {
            return line.find("thrown by the test's event callback") != std::string::npos;
        }));
    }

    // 2. With a hook: a non-std exception from an event callback, then from the log callback.
    (void)xo::set_callback_exception_hook(&record_caught);
    CHECK(sim_order(831, "done"));
    Recorder r2;
    auto tracker2 = session->track_order(831, TOKEN, r2.callback([](const xo::EventView&) { throw 42; }));
    CHECK_OK(tracker2);
    CHECK(r2.wait_final(20000));
    CHECK(hook_saw("event callback: an exception not derived from std::exception"));
    CHECK_OK(xo::set_log_callback([](xo::LogLevel, std::string_view) { throw std::logic_error("thrown by the log callback"); },
                                  xo::LogLevel::Debug));
    CHECK(sim_order(832, "done"));
    Recorder r3;
    auto tracker3 = session->track_order(832, TOKEN, r3.callback());
    CHECK_OK(tracker3);
    CHECK(r3.wait_final(20000));
    CHECK(hook_saw("log callback: thrown by the log callback"));
    CHECK_OK(xo::clear_log_callback());
    CHECK_OK(session->shutdown());
#endif
}

// Many trackers started, cancelled (destructor, move-assignment, cancel()) and finished from
// several threads at once, against one shared socket.
void test_many_trackers_from_several_threads() {
    xo::Config config = sim_config();
    config.worker_threads = 2;
    auto session = xo::Session::start(config);
    CHECK_OK(session);
    if (!session) return;
    constexpr int kThreads = 4;
    constexpr int kPerThread = 25;
    constexpr int64_t kBase = 10000;
    for (int i = 0; i < kThreads * kPerThread; i++)
        CHECK(sim_order(kBase + i, "new", "done", 100 + (i * 37) % 400));

    struct Slot {
        Recorder recorder;
        std::atomic<bool> gone{false};
        std::atomic<int> after_gone{0};
        bool cancelled = false;
    };
    std::vector<std::unique_ptr<Slot>> slots;
    for (int i = 0; i < kThreads * kPerThread; i++) slots.push_back(std::make_unique<Slot>());
    std::atomic<int> start_failures{0};

    auto worker = [&](int t) {
        std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
        std::vector<std::optional<xo::Tracker>> mine(kPerThread);
        for (int k = 0; k < kPerThread; k++) {
            const int i = t * kPerThread + k;
            Slot* slot = slots[static_cast<size_t>(i)].get();
            auto tracker = session->track_order(kBase + i, TOKEN, [slot](const xo::EventView& e) {
                if (slot->gone.load()) slot->after_gone++;
                slot->recorder.add(e);
            });
            if (!tracker) {
                start_failures++;
                continue;
            }
            mine[static_cast<size_t>(k)].emplace(std::move(*tracker));
        }
        // Cancel about a third of them at random moments, in three different ways.
        for (int k = 0; k < kPerThread; k++) {
            const int i = t * kPerThread + k;
            Slot* slot = slots[static_cast<size_t>(i)].get();
            auto& tracker = mine[static_cast<size_t>(k)];
            if (!tracker || rng() % 3 != 0) continue;
            std::this_thread::sleep_for(milliseconds(rng() % 20));
            switch (rng() % 3) {
                case 0: tracker.reset(); break;                 // destructor
                case 1: *tracker = xo::Tracker(); break;        // move-assignment
                default: (void)tracker->cancel(); break;        // explicit cancel
            }
            slot->gone = true;
            slot->cancelled = true;
        }
        // Wait for the others, then let every tracker go.
        for (int k = 0; k < kPerThread; k++) {
            Slot* slot = slots[static_cast<size_t>(t * kPerThread + k)].get();
            if (!slot->cancelled) slot->recorder.wait_final(15000);
        }
        for (int k = 0; k < kPerThread; k++) {
            mine[static_cast<size_t>(k)].reset();
            slots[static_cast<size_t>(t * kPerThread + k)]->gone = true;
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) threads.emplace_back(worker, t);
    for (auto& th : threads) th.join();

    int done = 0, cancelled = 0, bad_finals = 0, late = 0;
    for (auto& slot : slots) {
        late += slot->after_gone.load();
        const int finals = slot->recorder.finals();
        if (slot->cancelled) {
            cancelled++;
            if (finals > 1) bad_finals++;
        } else {
            if (finals == 1 && slot->recorder.last().outcome == xo::Outcome::Done) done++;
            else bad_finals++;
        }
    }
    CHECK_EQ(start_failures.load(), 0);
    CHECK_EQ(late, 0);
    CHECK_EQ(bad_finals, 0);
    CHECK_EQ(done + cancelled, kThreads * kPerThread);
    CHECK(cancelled > 0);
    std::printf("    stress: %d done, %d cancelled, %d late callbacks\n", done, cancelled, late);
}

// Purchase journal: a DONE is redelivered after a restart until acknowledged, then never again.
void test_journal_resume_and_acknowledge() {
    char dir_template[] = "/tmp/xo-cpp-journal-XXXXXX";
    const char* dir = mkdtemp(dir_template);
    CHECK(dir != nullptr);
    if (dir == nullptr) return;
    xo::Config config = sim_config();
    config.journal_dir = std::string(dir) + "/journal";
    {
        auto session = xo::Session::start(config);
        CHECK_OK(session);
        if (!session) return;
        CHECK_OK(session->journal_status());
        CHECK(sim_order(880, "new", "done", 100));
        Recorder r;
        auto tracker = session->track_order(880, TOKEN, r.callback());
        CHECK_OK(tracker);
        CHECK(r.wait_final());
        CHECK(r.last().outcome == xo::Outcome::Done);
        CHECK(r.last().origin == xo::Origin::Live);
        CHECK_OK(session->shutdown());  // "crashed" before acknowledging
    }
    {
        auto session = xo::Session::start(config);
        CHECK_OK(session);
        if (!session) return;
        Recorder r;
        auto resumed = session->resume_pending(TOKEN, r.callback());
        CHECK_OK(resumed);
        CHECK(resumed && *resumed == 1);
        CHECK(r.wait_final());
        CHECK(r.last().order_id == 880);
        CHECK(r.last().outcome == xo::Outcome::Done);
        CHECK(r.last().origin == xo::Origin::Redelivered);
        CHECK(r.last().contents_json && r.last().contents_json->find("\"items\"") != std::string::npos);
        CHECK_OK(session->acknowledge(880));
        CHECK_OK(session->acknowledge(880));  // idempotent
        auto unknown = session->acknowledge(881);
        CHECK(!unknown && unknown.error().code() == xo::ResultCode::UnknownOrder);
        CHECK_OK(session->shutdown());
    }
    {
        auto session = xo::Session::start(config);
        CHECK_OK(session);
        if (!session) return;
        Recorder r;
        auto resumed = session->resume_pending(TOKEN, r.callback());
        CHECK(resumed && *resumed == 0);
        auto again = session->track_order(880, TOKEN, r.callback());
        CHECK(!again && again.error().code() == xo::ResultCode::AlreadyAcknowledged);
        CHECK_OK(session->shutdown());
    }
    const std::string cleanup = std::string("rm -rf '") + dir + "'";
    CHECK(std::system(cleanup.c_str()) == 0);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || sim_start(argv[1], &sim()) != 0) {
        std::fprintf(stderr, "usage: %s <path to xo-sim>\n", argv[0]);
        return 2;
    }
    struct Test {
        const char* name;
        void (*run)();
    };
    const Test tests[] = {
        {"version_and_enums", test_version_and_enums},
        {"errors", test_errors},
        {"success_over_socket", test_success_over_socket},
        {"fallback_to_polling", test_fallback_to_polling},
        {"queued_delivery", test_queued_delivery_runs_on_the_dispatching_thread},
        {"check_order", test_check_order},
        {"typed_contents_view", test_typed_contents_view},
        {"cancel_by_destructor", test_cancel_by_destructor},
        {"cancel_by_move_assignment", test_cancel_by_move_assignment},
        {"destroy_inside_own_callback", test_destroy_inside_own_callback},
        {"destroy_other_inside_callback", test_destroy_other_inside_callback},
        {"update_token_after_expiry", test_update_token_after_expiry},
        {"app_lifecycle", test_app_lifecycle},
        {"shutdown_with_live_trackers_then_restart", test_shutdown_with_live_trackers_then_restart},
        {"tracker_destroyed_during_shutdown", test_tracker_destroyed_during_shutdown},
        {"log_callback", test_log_callback},
        {"throwing_callbacks_are_contained", test_throwing_callbacks_are_contained},
        {"many_trackers_from_several_threads", test_many_trackers_from_several_threads},
        {"journal_resume_and_acknowledge", test_journal_resume_and_acknowledge},
    };
    // Counts tests, not checks: a test passes when every check in it holds.
    int tests_passed = 0, tests_failed = 0;
    for (const Test& t : tests) {
        const int failed_before = failed();
        const auto started = Clock::now();
        t.run();
        const auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
        const bool ok = failed() == failed_before;
        (ok ? tests_passed : tests_failed)++;
        std::printf("%s %s (%lld ms)\n", ok ? "ok  " : "FAIL", t.name, static_cast<long long>(ms));
        std::fflush(stdout);
    }
    sim_stop(&sim());
    std::printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed ? 1 : 0;
}

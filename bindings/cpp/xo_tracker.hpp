// xo_tracker.hpp: a header-only C++17 wrapper over the C ABI in xo_tracker.h.
//
//   xo::Config config;
//   config.project_id = 123456;
//   config.delivery = xo::Delivery::Queued;             // callbacks run inside dispatch()
//   auto session = xo::Session::start(config);          // configures; its destructor shuts down
//   if (!session) log(session.error().message());
//   auto tracker = session->track_order(order_id, token, [](const xo::EventView& e) {
//       if (e.kind() == xo::EventKind::Final && e.outcome() == xo::Outcome::Done)
//           for (xo::ItemView item : e.contents()) grant(item.sku(), item.quantity());
//   });
//   session->dispatch();                                 // every frame, on the main thread
//   // tracker's destructor (or tracker.cancel()) stops it: no callback runs after that.
//
// Rules of the wrapper:
// - No exceptions are thrown (it builds with -fno-exceptions -fno-rtti, as Unreal does). Failures
//   come back as xo::Error inside xo::Expected<T>; value() on an error is a programming error and
//   calls std::abort().
// - Strings go in as std::string_view and come out as std::string (or std::string_view for data that
//   lives only during a callback: EventView).
// - Delivering an event allocates nothing and takes no lock of the wrapper: the library calls a
//   trampoline that hands an EventView (pointers into the library's event) to your std::function.
// - A Tracker is move-only and owns its callback. Its destructor, cancel() and move-assignment
//   cancel the tracker; once they return the callback never runs again. They may be called from
//   inside that tracker's own callback (the callback object is then released when it returns).
// - In Delivery::Direct mode callbacks run on a library thread and may start before track_order()
//   returns; in Delivery::Queued mode they run inside Session::dispatch() on the calling thread.
// - Do not call into the library from a log callback. The log callback slot and the one-Session
//   flag are per binary: set and clear the log callback, and start sessions, from one module.
// - Callbacks must not throw, and an exception never reaches the library: the trampolines the
//   library calls are noexcept and, when exceptions are enabled, catch everything an event or log
//   callback throws (an exception unwinding into the library's extern "C" frame would abort the
//   process). A caught exception goes to the hook set with set_callback_exception_hook(); without
//   a hook, one thrown by an event callback is reported as an Error line through the log callback
//   (if one is set) and one thrown by the log callback is dropped. The tracker goes on: later
//   events are delivered as usual. With -fno-exceptions there is nothing to catch.
#ifndef XO_TRACKER_HPP
#define XO_TRACKER_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "xo_tracker.h"

// 1 when this translation unit is compiled with C++ exceptions (GCC/Clang -fexceptions, MSVC /EHsc).
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define XO_TRACKER_HPP_EXCEPTIONS 1
#else
#define XO_TRACKER_HPP_EXCEPTIONS 0
#endif

namespace xo {

// ---------------------------------------------------------------------------------------------
// Enumerations (values identical to the C header; checked below).

// A result code: Ok, an error of a call, or (in an event's error_code) why something failed.
enum class ResultCode : int32_t {
    Ok = XO_RESULT_OK,
    NullArgument = XO_RESULT_NULL_ARGUMENT,
    InvalidArgument = XO_RESULT_INVALID_ARGUMENT,
    InvalidUtf8 = XO_RESULT_INVALID_UTF8,
    NotConfigured = XO_RESULT_NOT_CONFIGURED,
    UnknownHandle = XO_RESULT_UNKNOWN_HANDLE,
    Busy = XO_RESULT_BUSY,
    InCallback = XO_RESULT_IN_CALLBACK,
    Panic = XO_RESULT_PANIC,
    Internal = XO_RESULT_INTERNAL,
    Network = XO_RESULT_NETWORK,
    Timeout = XO_RESULT_TIMEOUT,
    Http = XO_RESULT_HTTP,
    Unauthorized = XO_RESULT_UNAUTHORIZED,
    NotFound = XO_RESULT_NOT_FOUND,
    Protocol = XO_RESULT_PROTOCOL,
    RateLimited = XO_RESULT_RATE_LIMITED,
    SocketRejected = XO_RESULT_SOCKET_REJECTED,
    UnknownOrder = XO_RESULT_UNKNOWN_ORDER,
    AlreadyAcknowledged = XO_RESULT_ALREADY_ACKNOWLEDGED,
    JournalUnavailable = XO_RESULT_JOURNAL_UNAVAILABLE,
};

// Where an event comes from (purchase journal): live, redelivered from the journal, or restored
// from Xsolla (show "restored purchase").
enum class Origin : int32_t {
    Live = XO_ORIGIN_LIVE,
    Redelivered = XO_ORIGIN_REDELIVERED,
    Restored = XO_ORIGIN_RESTORED,
};

enum class EventKind : int32_t {
    StatusChanged = XO_EVENT_KIND_STATUS_CHANGED,
    TransportChanged = XO_EVENT_KIND_TRANSPORT_CHANGED,
    TokenExpired = XO_EVENT_KIND_TOKEN_EXPIRED,
    Final = XO_EVENT_KIND_FINAL,
    CheckResult = XO_EVENT_KIND_CHECK_RESULT,
};

enum class OrderStatus : int32_t {
    None = XO_STATUS_NONE,
    New = XO_STATUS_NEW,
    Paid = XO_STATUS_PAID,
    Done = XO_STATUS_DONE,
    Canceled = XO_STATUS_CANCELED,
    Expired = XO_STATUS_EXPIRED,
    Other = XO_STATUS_OTHER,
};

enum class Outcome : int32_t {
    None = XO_OUTCOME_NONE,
    Done = XO_OUTCOME_DONE,
    Canceled = XO_OUTCOME_CANCELED,
    Expired = XO_OUTCOME_EXPIRED,
    TimedOut = XO_OUTCOME_TIMED_OUT,
    NotFound = XO_OUTCOME_NOT_FOUND,
    Unauthorized = XO_OUTCOME_UNAUTHORIZED,
    Failed = XO_OUTCOME_FAILED,
};

enum class TransportState : int32_t {
    None = XO_TRANSPORT_STATE_NONE,
    SocketConnected = XO_TRANSPORT_STATE_SOCKET_CONNECTED,
    Polling = XO_TRANSPORT_STATE_POLLING,
    SocketRestored = XO_TRANSPORT_STATE_SOCKET_RESTORED,
    SocketReestablished = XO_TRANSPORT_STATE_SOCKET_REESTABLISHED,
};

enum class Transport : int32_t {
    Centrifugo = XO_TRANSPORT_CENTRIFUGO,
    LegacySocket = XO_TRANSPORT_LEGACY_SOCKET,
    PollingOnly = XO_TRANSPORT_POLLING_ONLY,
};

enum class Delivery : int32_t {
    Direct = XO_DELIVERY_DIRECT,
    Queued = XO_DELIVERY_QUEUED,
};

enum class LogLevel : int32_t {
    Error = XO_LOG_LEVEL_ERROR,
    Warn = XO_LOG_LEVEL_WARN,
    Info = XO_LOG_LEVEL_INFO,
    Debug = XO_LOG_LEVEL_DEBUG,
};

static_assert(sizeof(ResultCode) == sizeof(int32_t) && sizeof(OrderStatus) == sizeof(xo_status),
              "enums are int32_t like the C ABI");
static_assert(XO_ABI_VERSION == 1, "xo_tracker.hpp was written for ABI version 1");

// The description of a result code (static text from the library).
inline std::string_view describe(ResultCode code) noexcept {
    return xo_result_string(static_cast<int32_t>(code));
}

inline std::string_view to_string(OrderStatus status) noexcept {
    switch (status) {
        case OrderStatus::None: return "none";
        case OrderStatus::New: return "new";
        case OrderStatus::Paid: return "paid";
        case OrderStatus::Done: return "done";
        case OrderStatus::Canceled: return "canceled";
        case OrderStatus::Expired: return "expired";
        case OrderStatus::Other: return "other";
    }
    return "unknown";
}

inline std::string_view to_string(Outcome outcome) noexcept {
    switch (outcome) {
        case Outcome::None: return "none";
        case Outcome::Done: return "done";
        case Outcome::Canceled: return "canceled";
        case Outcome::Expired: return "expired";
        case Outcome::TimedOut: return "timed_out";
        case Outcome::NotFound: return "not_found";
        case Outcome::Unauthorized: return "unauthorized";
        case Outcome::Failed: return "failed";
    }
    return "unknown";
}

inline std::string_view to_string(EventKind kind) noexcept {
    switch (kind) {
        case EventKind::StatusChanged: return "status_changed";
        case EventKind::TransportChanged: return "transport_changed";
        case EventKind::TokenExpired: return "token_expired";
        case EventKind::Final: return "final";
        case EventKind::CheckResult: return "check_result";
    }
    return "unknown";
}

inline std::string_view to_string(TransportState state) noexcept {
    switch (state) {
        case TransportState::None: return "none";
        case TransportState::SocketConnected: return "socket_connected";
        case TransportState::Polling: return "polling";
        case TransportState::SocketRestored: return "socket_restored";
        case TransportState::SocketReestablished: return "socket_reestablished";
    }
    return "unknown";
}

// The library's version string, e.g. "0.1.0".
inline std::string_view version() noexcept { return xo_version(); }

// The ABI version of the loaded library, and whether it is the one this header was written for.
inline uint32_t abi_version() noexcept { return xo_abi_version(); }
inline bool abi_compatible() noexcept { return xo_abi_version() == XO_ABI_VERSION; }

// ---------------------------------------------------------------------------------------------
// Errors.

// A failed call: its code and the library's message (xo_last_error at the time of the failure).
class Error {
public:
    Error() = default;
    Error(ResultCode code, std::string message) : code_(code), message_(std::move(message)) {}

    ResultCode code() const noexcept { return code_; }
    const std::string& message() const noexcept { return message_; }
    std::string_view description() const noexcept { return describe(code_); }
    bool ok() const noexcept { return code_ == ResultCode::Ok; }

private:
    ResultCode code_ = ResultCode::Ok;
    std::string message_;
};

// A value or an Error; never throws. value() / operator* on an error abort the program.
template <class T>
class [[nodiscard]] Expected {
public:
    Expected(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
    Expected(Error error) : error_(std::move(error)) {
        if (error_.ok()) error_ = Error(ResultCode::Internal, "Expected built from an Ok error");
    }

    bool has_value() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return value_.has_value(); }

    T& value() & { return checked(); }
    const T& value() const& { return const_cast<Expected*>(this)->checked(); }
    T&& value() && { return std::move(checked()); }
    T& operator*() & { return checked(); }
    T&& operator*() && { return std::move(checked()); }
    T* operator->() { return &checked(); }
    const T* operator->() const { return &const_cast<Expected*>(this)->checked(); }

    // The error (code Ok when there is a value).
    const Error& error() const noexcept { return error_; }

private:
    T& checked() {
        if (!value_) std::abort();  // value() on an error: check has_value() first
        return *value_;
    }
    std::optional<T> value_;
    Error error_;
};

template <>
class [[nodiscard]] Expected<void> {
public:
    Expected() = default;
    Expected(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

    bool has_value() const noexcept { return error_.ok(); }
    explicit operator bool() const noexcept { return error_.ok(); }
    const Error& error() const noexcept { return error_; }

private:
    Error error_;
};

namespace detail {

// The Error for a failed C call: `code` and the calling thread's xo_last_error().
inline Error last_error(int64_t code) {
    const char* text = xo_last_error();
    return Error(static_cast<ResultCode>(static_cast<int32_t>(code)), text ? std::string(text) : std::string());
}

inline Expected<void> check_result(xo_result code) {
    if (code == XO_RESULT_OK) return {};
    return last_error(code);
}

// A NUL-terminated copy of a std::string_view (on the stack when short). Refuses embedded NULs,
// which the C side would silently cut at.
class CString {
public:
    explicit CString(std::string_view text) {
        valid_ = text.find('\0') == std::string_view::npos;
        if (text.size() < sizeof small_) {
            std::memcpy(small_, text.data(), text.size());
            small_[text.size()] = '\0';
            ptr_ = small_;
        } else {
            big_.assign(text.data(), text.size());
            ptr_ = big_.c_str();
        }
    }
    CString(const CString&) = delete;
    CString& operator=(const CString&) = delete;

    bool valid() const noexcept { return valid_; }
    const char* c_str() const noexcept { return ptr_; }

private:
    char small_[512];
    std::string big_;
    const char* ptr_ = small_;
    bool valid_ = true;
};

inline Error embedded_nul(const char* what) {
    return Error(ResultCode::InvalidArgument, std::string(what) + " contains a NUL byte");
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Order contents, owned: safe to keep and to move to another thread.

// A price: decimal amounts as text, exactly as Xsolla sent them ("" when absent).
struct Price {
    std::string amount;
    std::string amount_without_discount;
    std::string currency;  // ISO code, or the virtual currency's sku
};

// One purchased item.
struct Item {
    std::string sku;
    int64_t quantity = 0;
    bool is_free = false;
    std::optional<Price> price;
    std::optional<Price> virtual_price;
};

// The contents of a done order.
struct Contents {
    bool is_free = false;
    std::optional<Price> price;
    std::optional<Price> virtual_price;
    std::vector<Item> items;
};

namespace detail {
inline std::string_view view(const char* text) noexcept { return text ? std::string_view(text) : std::string_view(); }
}  // namespace detail

// Views of the library's typed contents, valid only during the callback (like EventView). They
// allocate nothing; to_owned() copies.

// A price that may be absent (operator bool); an absent price reads as "".
class PriceView {
public:
    explicit PriceView(const xo_price* price) noexcept : p_(price) {}
    explicit operator bool() const noexcept { return p_ != nullptr; }
    std::string_view amount() const noexcept { return p_ ? detail::view(p_->amount) : std::string_view(); }
    std::string_view amount_without_discount() const noexcept {
        return p_ ? detail::view(p_->amount_without_discount) : std::string_view();
    }
    std::string_view currency() const noexcept { return p_ ? detail::view(p_->currency) : std::string_view(); }
    std::optional<Price> to_owned() const {
        if (!p_) return std::nullopt;
        return Price{std::string(amount()), std::string(amount_without_discount()), std::string(currency())};
    }

private:
    const xo_price* p_;
};

class ItemView {
public:
    explicit ItemView(const xo_item& item) noexcept : i_(&item) {}
    std::string_view sku() const noexcept { return detail::view(i_->sku); }
    int64_t quantity() const noexcept { return i_->quantity; }
    bool is_free() const noexcept { return i_->is_free != 0; }
    PriceView price() const noexcept { return PriceView(i_->price); }
    PriceView virtual_price() const noexcept { return PriceView(i_->virtual_price); }
    Item to_owned() const {
        return Item{std::string(sku()), quantity(), is_free(), price().to_owned(), virtual_price().to_owned()};
    }

private:
    const xo_item* i_;
};

// The contents of a done order (operator bool: present). Iterate it for the items.
class ContentsView {
public:
    class iterator {
    public:
        explicit iterator(const xo_item* at) noexcept : at_(at) {}
        ItemView operator*() const noexcept { return ItemView(*at_); }
        iterator& operator++() noexcept {
            ++at_;
            return *this;
        }
        bool operator==(const iterator& other) const noexcept { return at_ == other.at_; }
        bool operator!=(const iterator& other) const noexcept { return at_ != other.at_; }

    private:
        const xo_item* at_;
    };

    ContentsView() noexcept = default;
    explicit ContentsView(const xo_contents* contents) noexcept : c_(contents) {}
    explicit operator bool() const noexcept { return c_ != nullptr; }
    bool is_free() const noexcept { return c_ != nullptr && c_->is_free != 0; }
    PriceView price() const noexcept { return PriceView(c_ ? c_->price : nullptr); }
    PriceView virtual_price() const noexcept { return PriceView(c_ ? c_->virtual_price : nullptr); }
    size_t size() const noexcept { return c_ != nullptr && c_->items != nullptr ? c_->item_count : 0; }
    bool empty() const noexcept { return size() == 0; }
    // The item at `index`, which must be below size().
    ItemView operator[](size_t index) const noexcept { return ItemView(c_->items[index]); }
    iterator begin() const noexcept { return iterator(size() ? c_->items : nullptr); }
    iterator end() const noexcept { return iterator(size() ? c_->items + size() : nullptr); }
    std::optional<Contents> to_owned() const {
        if (!c_) return std::nullopt;
        Contents out{is_free(), price().to_owned(), virtual_price().to_owned(), {}};
        out.items.reserve(size());
        for (ItemView item : *this) out.items.push_back(item.to_owned());
        return out;
    }

private:
    const xo_contents* c_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Events.

// An owned copy of an event, safe to keep and to move to another thread.
struct Event {
    EventKind kind = EventKind::StatusChanged;
    int64_t handle = 0;
    int64_t order_id = 0;
    OrderStatus status = OrderStatus::None;
    Outcome outcome = Outcome::None;
    TransportState transport_state = TransportState::None;
    ResultCode error_code = ResultCode::Ok;
    int32_t http_status = 0;
    std::string status_raw;
    std::string message;
    std::optional<std::string> contents_json;
    std::optional<Contents> contents;  // the same contents, typed
    Origin origin = Origin::Live;

    // The last event of its tracker or check.
    bool is_last() const noexcept { return kind == EventKind::Final || kind == EventKind::CheckResult; }
};

// A view of the library's event, valid only during the callback: copy what you keep (to_owned()).
class EventView {
public:
    explicit EventView(const xo_event& event) noexcept : e_(&event) {}

    EventKind kind() const noexcept { return static_cast<EventKind>(e_->kind); }
    int64_t handle() const noexcept { return e_->handle; }
    int64_t order_id() const noexcept { return e_->order_id; }
    OrderStatus status() const noexcept { return static_cast<OrderStatus>(e_->status); }
    Outcome outcome() const noexcept { return static_cast<Outcome>(e_->outcome); }
    TransportState transport_state() const noexcept { return static_cast<TransportState>(e_->transport_state); }
    ResultCode error_code() const noexcept { return static_cast<ResultCode>(e_->error_code); }
    int32_t http_status() const noexcept { return e_->http_status; }
    std::string_view status_raw() const noexcept { return detail::view(e_->status_raw); }
    std::string_view message() const noexcept { return detail::view(e_->message); }
    bool has_contents() const noexcept { return e_->contents_json != nullptr; }
    // The order contents as JSON on done (final or check); empty otherwise.
    std::string_view contents_json() const noexcept { return detail::view(e_->contents_json); }
    // The same contents, typed (empty, operator bool false, when there are none, or when the
    // loaded library predates xo_event.contents).
    ContentsView contents() const noexcept {
        if (e_->struct_size < offsetof(xo_event, contents) + sizeof e_->contents) return ContentsView();
        return ContentsView(e_->contents);
    }
    bool is_last() const noexcept { return kind() == EventKind::Final || kind() == EventKind::CheckResult; }
    // Live, or from the journal / Xsolla (Live with a library older than the journal).
    Origin origin() const noexcept {
        const bool has = e_->struct_size >= offsetof(xo_event, origin) + sizeof(int32_t);
        return has ? static_cast<Origin>(e_->origin) : Origin::Live;
    }
    // The C event, for fields added after this header was written.
    const xo_event& raw() const noexcept { return *e_; }

    Event to_owned() const {
        Event out;
        out.kind = kind();
        out.handle = handle();
        out.order_id = order_id();
        out.status = status();
        out.outcome = outcome();
        out.transport_state = transport_state();
        out.error_code = error_code();
        out.http_status = http_status();
        out.status_raw = std::string(status_raw());
        out.message = std::string(message());
        if (has_contents()) out.contents_json = std::string(contents_json());
        out.contents = contents().to_owned();
        out.origin = origin();
        return out;
    }

private:
    const xo_event* e_;
};

using EventCallback = std::function<void(const EventView&)>;
using LogCallback = std::function<void(LogLevel, std::string_view)>;

namespace detail {

// What the library's userdata points to: the host's callback. Owned by a Tracker.
// The markers live in the state itself (not in a thread_local of this header), so they stay right
// when the Tracker is created in one binary (DLL, Unreal module) and destroyed in another.
struct CallbackState {
    explicit CallbackState(EventCallback fn) : callback(std::move(fn)) {}
    EventCallback callback;
    // The thread running the callback now, if any.
    std::atomic<std::thread::id> running_on{std::thread::id()};
    // Its Tracker went away during the call: the trampoline deletes the state on return.
    std::atomic<bool> release_after_call{false};
};

// Reports an exception caught from a callback (defined with the logging below).
inline void report_callback_exception(const char* callback, const char* what) noexcept;

// Runs `fn` (a host callback); with exceptions enabled, catches whatever it throws and reports it.
template <class Fn>
inline void call_host(const char* callback, Fn&& fn) noexcept {
#if XO_TRACKER_HPP_EXCEPTIONS
    try {
        fn();
    } catch (const std::exception& e) {
        report_callback_exception(callback, e.what());
    } catch (...) {
        report_callback_exception(callback, "an exception not derived from std::exception");
    }
#else
    (void)callback;
    fn();
#endif
}

// What the library calls for every event. noexcept: nothing may unwind into the library.
inline void event_trampoline(void* userdata, const xo_event* event) noexcept {
    auto* state = static_cast<CallbackState*>(userdata);
    if (state == nullptr || event == nullptr) return;
    state->running_on.store(std::this_thread::get_id(), std::memory_order_relaxed);
    if (state->callback) call_host("event callback", [&] { state->callback(EventView(*event)); });
    const bool release = state->release_after_call.load(std::memory_order_relaxed);
    state->running_on.store(std::thread::id(), std::memory_order_release);  // last access unless `release`
    if (release) delete state;
}

// Called after xo_cancel returned: deletes the state now, or (from inside its own callback) when the
// callback returns. xo_cancel already waited for a call running on another thread; the wait below
// only matters if the library returned early (xo_cancel racing xo_shutdown on another thread).
inline void release_state(CallbackState* state) noexcept {
    const std::thread::id self = std::this_thread::get_id();
    for (;;) {
        const std::thread::id running = state->running_on.load(std::memory_order_acquire);
        if (running == self) {
            state->release_after_call.store(true, std::memory_order_relaxed);  // deleted on return
            return;
        }
        if (running == std::thread::id()) break;
        std::this_thread::yield();
    }
    delete state;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Tracker: one tracked order (or one check), cancelled when destroyed.

class Tracker {
public:
    Tracker() noexcept = default;
    ~Tracker() { cancel(); }

    Tracker(Tracker&& other) noexcept
        : state_(std::exchange(other.state_, nullptr)),
          handle_(std::exchange(other.handle_, 0)),
          order_id_(std::exchange(other.order_id_, 0)) {}

    // Cancels the tracker this one held, then takes over `other`'s.
    Tracker& operator=(Tracker&& other) noexcept {
        if (this != &other) {
            cancel();
            state_ = std::exchange(other.state_, nullptr);
            handle_ = std::exchange(other.handle_, 0);
            order_id_ = std::exchange(other.order_id_, 0);
        }
        return *this;
    }

    Tracker(const Tracker&) = delete;
    Tracker& operator=(const Tracker&) = delete;

    // Whether this object holds a tracker (it may have delivered its final event already).
    explicit operator bool() const noexcept { return state_ != nullptr; }
    int64_t handle() const noexcept { return handle_; }
    int64_t order_id() const noexcept { return order_id_; }

    // Stops the tracker; once this returns its callback never runs again (from inside that
    // callback: the current call finishes). Returns whether the library still knew the handle
    // (false once it ended long enough ago, or after shutdown). Idempotent.
    bool cancel() noexcept {
        if (state_ == nullptr) return false;
        const bool was_running = xo_cancel(handle_) == XO_RESULT_OK;
        detail::release_state(std::exchange(state_, nullptr));
        handle_ = 0;
        order_id_ = 0;
        return was_running;
    }

    // Gives the tracker a fresh token (after EventKind::TokenExpired, or ahead of expiry).
    Expected<void> update_token(std::string_view token) const {
        if (state_ == nullptr) return Error(ResultCode::UnknownHandle, "the tracker is empty");
        detail::CString c_token(token);
        if (!c_token.valid()) return detail::embedded_nul("token");
        return detail::check_result(xo_update_token(handle_, c_token.c_str()));
    }

private:
    friend class Session;
    Tracker(int64_t handle, int64_t order_id, detail::CallbackState* state) noexcept
        : state_(state), handle_(handle), order_id_(order_id) {}

    detail::CallbackState* state_ = nullptr;
    int64_t handle_ = 0;
    int64_t order_id_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Configuration and the session.

// Zero fields and empty strings take the library's defaults.
struct Config {
    int64_t project_id = 0;  // required
    Transport transport = Transport::Centrifugo;
    Delivery delivery = Delivery::Direct;
    std::string centrifugo_url;
    std::string legacy_socket_url;
    std::string api_base_url;
    uint32_t poll_interval_ms = 0;
    uint32_t socket_reestablish_ms = 0;
    uint32_t polling_deadline_ms = 0;
    uint32_t overall_deadline_ms = 0;
    uint32_t token_wait_ms = 0;
    uint32_t request_timeout_ms = 0;
    uint32_t backoff_min_ms = 0;
    uint32_t backoff_max_ms = 0;
    uint32_t worker_threads = 0;
    bool allow_insecure_loopback = false;  // ws:// and http:// to loopback only (the simulator)
    // http://, https://, socks5:// or socks5h:// [user:password@]host:port; empty: the
    // HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY variables, then the Windows/macOS settings.
    std::string proxy_url;
    std::string ca_bundle_pem;   // extra trusted CA certificates (PEM text); empty: none
    std::string ca_bundle_file;  // a PEM file of extra trusted CA certificates; empty: none
    // Purchase journal directory (empty: none). With it, DONE orders are redelivered after every
    // restart (Session::resume_pending) until Session::acknowledge.
    std::string journal_dir;
    bool restore_from_xsolla = false;  // also restore purchases from Xsolla's Events API
    std::string events_api_url;        // empty: https://getupdate.xsolla.com
    uint32_t restore_interval_ms = 0;  // 0: only at resume_pending; else >= 3000

    // The C struct; its strings point into this Config.
    xo_config to_c() const noexcept {
        xo_config c;
        std::memset(&c, 0, sizeof c);
        c.struct_size = static_cast<uint32_t>(sizeof c);
        c.transport = static_cast<int32_t>(transport);
        c.project_id = project_id;
        c.centrifugo_url = centrifugo_url.empty() ? nullptr : centrifugo_url.c_str();
        c.legacy_socket_url = legacy_socket_url.empty() ? nullptr : legacy_socket_url.c_str();
        c.api_base_url = api_base_url.empty() ? nullptr : api_base_url.c_str();
        c.delivery = static_cast<int32_t>(delivery);
        c.poll_interval_ms = poll_interval_ms;
        c.socket_reestablish_ms = socket_reestablish_ms;
        c.polling_deadline_ms = polling_deadline_ms;
        c.overall_deadline_ms = overall_deadline_ms;
        c.token_wait_ms = token_wait_ms;
        c.request_timeout_ms = request_timeout_ms;
        c.backoff_min_ms = backoff_min_ms;
        c.backoff_max_ms = backoff_max_ms;
        c.worker_threads = worker_threads;
        c.allow_insecure_loopback = allow_insecure_loopback ? 1u : 0u;
        c.proxy_url = proxy_url.empty() ? nullptr : proxy_url.c_str();
        c.ca_bundle_pem = ca_bundle_pem.empty() ? nullptr : ca_bundle_pem.c_str();
        c.ca_bundle_file = ca_bundle_file.empty() ? nullptr : ca_bundle_file.c_str();
        c.journal_dir = journal_dir.empty() ? nullptr : journal_dir.c_str();
        c.restore_from_xsolla = restore_from_xsolla ? 1u : 0u;
        c.events_api_url = events_api_url.empty() ? nullptr : events_api_url.c_str();
        c.restore_interval_ms = restore_interval_ms;
        return c;
    }
};

namespace detail {
inline std::atomic<bool>& session_exists() noexcept {
    static std::atomic<bool> exists{false};
    return exists;
}
}  // namespace detail

// The library's configuration for as long as it lives; its destructor shuts the library down
// (cancels every tracker and joins the library's threads). The library is process-wide, so at
// most one Session exists at a time. Move-only.
class Session {
public:
    Session() noexcept = default;  // inactive
    ~Session() { (void)shutdown(); }

    Session(Session&& other) noexcept
        : active_(std::exchange(other.active_, false)), resumed_(std::move(other.resumed_)) {}
    Session& operator=(Session&& other) noexcept {
        if (this != &other) {
            (void)shutdown();
            active_ = std::exchange(other.active_, false);
            resumed_ = std::move(other.resumed_);
        }
        return *this;
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Configures the library. Fails with Busy while another Session exists.
    static Expected<Session> start(const Config& config) {
        for (const std::string* url : {&config.centrifugo_url, &config.legacy_socket_url, &config.api_base_url,
                                       &config.journal_dir, &config.events_api_url}) {
            if (url->find('\0') != std::string::npos) return detail::embedded_nul("a URL");
        }
        if (detail::session_exists().exchange(true)) {
            return Error(ResultCode::Busy, "an xo::Session already exists: the library is process-wide");
        }
        const xo_config c = config.to_c();
        const xo_result code = xo_configure(&c);
        if (code != XO_RESULT_OK) {
            Error error = detail::last_error(code);
            detail::session_exists().store(false);
            return error;
        }
        Session session;
        session.active_ = true;
        return Expected<Session>(std::move(session));
    }

    bool active() const noexcept { return active_; }

    // Starts tracking an order. The token is copied.
    Expected<Tracker> track_order(int64_t order_id, std::string_view token, EventCallback callback) const {
        return start_tracker(&xo_track_order, order_id, token, std::move(callback));
    }

    // Asks once for an order's status and contents: one EventKind::CheckResult.
    Expected<Tracker> check_order(int64_t order_id, std::string_view token, EventCallback callback) const {
        return start_tracker(&xo_check_order, order_id, token, std::move(callback));
    }

    // Purchase journal: re-tracks the token's user's unfinished orders and redelivers every DONE not
    // acknowledged yet (Origin::Redelivered; restored ones from Xsolla arrive later as
    // Origin::Restored), each on its own handle (EventView::handle()). Returns how many. The
    // callback lives until the Session shuts down. Call once at start (after sign-in).
    Expected<int> resume_pending(std::string_view token, EventCallback callback) const {
        if (!active_) return Error(ResultCode::NotConfigured, "the xo::Session is not active");
        if (!callback) return Error(ResultCode::NullArgument, "the callback is empty");
        detail::CString c_token(token);
        if (!c_token.valid()) return detail::embedded_nul("token");
        auto state = std::make_unique<detail::CallbackState>(std::move(callback));
        const int32_t n = xo_resume_pending(c_token.c_str(), &detail::event_trampoline, state.get());
        if (n < 0) return detail::last_error(n);
        resumed_.push_back(std::move(state));  // handles may use it until shutdown
        return Expected<int>(static_cast<int>(n));
    }

    // The game granted a DONE order's items: never deliver it again. Durable on return; idempotent.
    // Call it after granting (make grants idempotent on the order id: a crash between the grant and
    // this call redelivers the order). Ok without a journal.
    Expected<void> acknowledge(int64_t order_id) const { return detail::check_result(xo_acknowledge(order_id)); }

    // Ok while the journal writes to disk; JournalUnavailable (with the reason) otherwise.
    Expected<void> journal_status() const { return detail::check_result(xo_journal_status()); }

    // Queued delivery: runs up to `max_events` pending callbacks on this thread; returns how many.
    Expected<int> dispatch(uint32_t max_events = 256) const {
        const int32_t ran = xo_dispatch(max_events);
        if (ran < 0) return detail::last_error(ran);
        return Expected<int>(static_cast<int>(ran));
    }

    // Mobile lifecycle (see xo::set_app_active).
    Expected<void> set_app_active(bool active) const;

    // The platform reported that connectivity changed (see xo::network_changed).
    Expected<void> network_changed() const;

    // Cancels every tracker, joins the library's threads and clears the configuration. No callback
    // runs once it returns. Idempotent. Fails with InCallback from inside a callback.
    Expected<void> shutdown() {
        if (!active_) return {};
        const xo_result code = xo_shutdown();
        if (code == XO_RESULT_IN_CALLBACK) return detail::last_error(code);
        active_ = false;
        detail::session_exists().store(false);
        resumed_.clear();  // no callback runs any more
        return detail::check_result(code);
    }

private:
    using StartFn = int64_t (*)(int64_t, const char*, xo_event_callback, void*);

    Expected<Tracker> start_tracker(StartFn start_fn, int64_t order_id, std::string_view token,
                                    EventCallback callback) const {
        if (!active_) return Error(ResultCode::NotConfigured, "the xo::Session is not active");
        if (!callback) return Error(ResultCode::NullArgument, "the callback is empty");
        detail::CString c_token(token);
        if (!c_token.valid()) return detail::embedded_nul("token");
        auto* state = new detail::CallbackState(std::move(callback));
        const int64_t handle = start_fn(order_id, c_token.c_str(), &detail::event_trampoline, state);
        if (handle <= 0) {
            Error error = detail::last_error(handle);
            delete state;  // the library never saw it
            return error;
        }
        return Expected<Tracker>(Tracker(handle, order_id, state));
    }

    bool active_ = false;
    mutable std::vector<std::unique_ptr<detail::CallbackState>> resumed_;  // see resume_pending
};

// ---------------------------------------------------------------------------------------------
// Process-wide state: app lifecycle and network. Callable with or without a Session; ending a
// Session (xo_shutdown) resets the app state to active, so set it again after starting a new one
// if the app is in the background.

// Mobile lifecycle: false when the app goes to the background (sockets close, polling stops,
// deadlines freeze, trackers are kept), true when it comes back (every tracked order is checked at
// once, then sockets reconnect).
inline Expected<void> set_app_active(bool active) {
    return detail::check_result(xo_set_app_active(active ? 1 : 0));
}

// Connectivity changed: every tracker checks its order now and sockets reconnect without backoff.
inline Expected<void> network_changed() { return detail::check_result(xo_network_changed()); }

inline Expected<void> Session::set_app_active(bool active) const { return xo::set_app_active(active); }
inline Expected<void> Session::network_changed() const { return xo::network_changed(); }

// ---------------------------------------------------------------------------------------------
// Logging (process-wide, independent of the Session).

namespace detail {

// Never destroyed: a library thread may log while the process exits. The mutex makes removal
// synchronous: once clear_log_callback() returns, the old callback is not running and never will.
struct LogSlot {
    std::mutex mutex;
    LogCallback callback;
};

inline LogSlot& log_slot() {
    static LogSlot* slot = new LogSlot();
    return *slot;
}

inline bool& in_log_callback() noexcept {
    static thread_local bool inside = false;
    return inside;
}

// What the library calls for every log line. noexcept: nothing may unwind into the library.
inline void log_trampoline(void* userdata, int32_t level, const char* message) noexcept {
    auto* slot = static_cast<LogSlot*>(userdata);
    call_host("log callback", [&] {
        std::lock_guard<std::mutex> lock(slot->mutex);
        if (!slot->callback) return;
        in_log_callback() = true;
        struct Reset {
            ~Reset() { in_log_callback() = false; }
        } reset;
        slot->callback(static_cast<LogLevel>(level), message ? std::string_view(message) : std::string_view());
    });
}

}  // namespace detail

// Receives every exception the wrapper caught from a callback: `callback` is "event callback" or
// "log callback", `what` the exception's what() (or a fixed text). It runs on the thread that ran
// the callback, right after it threw; it must not throw (it is called from a noexcept function).
using CallbackExceptionHook = void (*)(const char* callback, const char* what);

namespace detail {
inline std::atomic<CallbackExceptionHook>& exception_hook() noexcept {
    static std::atomic<CallbackExceptionHook> hook{nullptr};
    return hook;
}

inline void report_callback_exception(const char* callback, const char* what) noexcept {
    if (CallbackExceptionHook hook = exception_hook().load()) {
        hook(callback, what);
        return;
    }
    if (std::strcmp(callback, "event callback") != 0) return;  // the log callback itself threw
    call_host("log callback", [&] {
        LogSlot& slot = log_slot();
        std::lock_guard<std::mutex> lock(slot.mutex);
        if (!slot.callback) return;
        std::string line = "xo_tracker.hpp: an event callback threw (";
        line += what;
        line += "); the exception was caught and dropped, tracking goes on";
        in_log_callback() = true;
        struct Reset {
            ~Reset() { in_log_callback() = false; }
        } reset;
        slot.callback(LogLevel::Error, line);
    });
}
}  // namespace detail

// Sets the hook receiving exceptions caught from event and log callbacks (nullptr: the default,
// see the rules at the top of this header); returns the previous one. Only useful with exceptions.
inline CallbackExceptionHook set_callback_exception_hook(CallbackExceptionHook hook) noexcept {
    return detail::exception_hook().exchange(hook);
}

// Installs a log callback receiving lines up to `max_level`, on any thread. Lines never contain
// tokens. Not callable from inside the log callback.
inline Expected<void> set_log_callback(LogCallback callback, LogLevel max_level = LogLevel::Info) {
    if (detail::in_log_callback()) return Error(ResultCode::InCallback, "set_log_callback inside the log callback");
    if (!callback) return Error(ResultCode::NullArgument, "the log callback is empty");
    const auto level = static_cast<int32_t>(max_level);
    if (level < XO_LOG_LEVEL_ERROR || level > XO_LOG_LEVEL_DEBUG) {
        return Error(ResultCode::InvalidArgument, "max_level is not an xo::LogLevel");
    }
    detail::LogSlot& slot = detail::log_slot();
    LogCallback previous;
    {
        std::lock_guard<std::mutex> lock(slot.mutex);
        previous = std::exchange(slot.callback, std::move(callback));
    }
    return detail::check_result(xo_set_log_callback(&detail::log_trampoline, &slot, level));
}

// Removes the log callback; once this returns it is not running and never runs again.
inline Expected<void> clear_log_callback() {
    if (detail::in_log_callback()) return Error(ResultCode::InCallback, "clear_log_callback inside the log callback");
    Expected<void> result = detail::check_result(xo_set_log_callback(nullptr, nullptr, XO_LOG_LEVEL_ERROR));
    detail::LogSlot& slot = detail::log_slot();
    LogCallback previous;
    {
        std::lock_guard<std::mutex> lock(slot.mutex);  // waits for a line being written
        previous = std::exchange(slot.callback, LogCallback());
    }
    return result;
}

}  // namespace xo

#endif  // XO_TRACKER_HPP

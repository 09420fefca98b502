// Blueprint-facing types of the Xsolla order tracker, and their conversions from xo_tracker.hpp.
#pragma once

#include "CoreMinimal.h"

#include <string>
#include <string_view>

THIRD_PARTY_INCLUDES_START
#include "xo_tracker.hpp"
THIRD_PARTY_INCLUDES_END

#include "XoTrackerTypes.generated.h"

/** What an event is about. */
UENUM(BlueprintType)
enum class EXoEventKind : uint8
{
	StatusChanged,
	TransportChanged,
	TokenExpired,
	Final,
	CheckResult,
};

/** An order status. Only Done means delivered. */
UENUM(BlueprintType)
enum class EXoOrderStatus : uint8
{
	None,
	New,
	Paid,
	Done,
	Canceled,
	Expired,
	Other UMETA(ToolTip = "A status this version does not know: see StatusRaw"),
};

/** How tracking ended (on Final and CheckResult events). */
UENUM(BlueprintType)
enum class EXoOutcome : uint8
{
	None,
	Done UMETA(ToolTip = "Delivered: grant the items"),
	Canceled,
	Expired,
	TimedOut,
	NotFound,
	Unauthorized,
	Failed,
};

/** How status updates reach a tracker. */
UENUM(BlueprintType)
enum class EXoTransportState : uint8
{
	None,
	SocketConnected,
	Polling,
	SocketRestored,
	SocketReestablished,
};

/** Push transport (project settings). */
UENUM(BlueprintType)
enum class EXoTransport : uint8
{
	Centrifugo,
	LegacySocket,
	PollingOnly,
};

/** Where an order event comes from: live, redelivered from the purchase journal, or restored from Xsolla. */
UENUM(BlueprintType)
enum class EXoOrigin : uint8
{
	Live,
	Redelivered,
	Restored,
};

/** The most detailed library log lines forwarded to LogXoTracker. */
UENUM(BlueprintType)
enum class EXoLogLevel : uint8
{
	Off,
	Error,
	Warning,
	Info,
	Debug,
};

/** A price: decimal amounts as text, exactly as Xsolla sent them (empty when absent). */
USTRUCT(BlueprintType)
struct XOTRACKER_API FXoPrice
{
	GENERATED_BODY()

	/** The amount paid, e.g. "30". */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FString Amount;

	/** The amount before discounts. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FString AmountWithoutDiscount;

	/** An ISO currency code, or the virtual currency's SKU. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FString Currency;
};

/** One purchased item. */
USTRUCT(BlueprintType)
struct XOTRACKER_API FXoOrderItem
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FString Sku;

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	int64 Quantity = 0;

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	bool bIsFree = false;

	/** Whether Price is set (the item had a real-money price). */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	bool bHasPrice = false;

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FXoPrice Price;

	/** Whether VirtualPrice is set. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	bool bHasVirtualPrice = false;

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FXoPrice VirtualPrice;
};

/** The contents of a delivered order: what to grant. */
USTRUCT(BlueprintType)
struct XOTRACKER_API FXoOrderContents
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	bool bIsFree = false;

	/** Whether Price is set. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	bool bHasPrice = false;

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FXoPrice Price;

	/** Whether VirtualPrice is set. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	bool bHasVirtualPrice = false;

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FXoPrice VirtualPrice;

	/** The purchased items (at most 1000). */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	TArray<FXoOrderItem> Items;
};

/** One event of a tracked (or checked) order, always delivered on the game thread. */
USTRUCT(BlueprintType)
struct XOTRACKER_API FXoOrderEvent
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	EXoEventKind Kind = EXoEventKind::StatusChanged;

	/** The tracker or check handle (as returned by TrackOrder / CheckOrder). */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	int64 Handle = 0;

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	int64 OrderId = 0;

	/** The latest known status. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	EXoOrderStatus Status = EXoOrderStatus::None;

	/** The status exactly as Xsolla sent it. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FString StatusRaw;

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	EXoOutcome Outcome = EXoOutcome::None;

	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	EXoTransportState TransportState = EXoTransportState::None;

	/** 0, or the xo_result code of what failed (negative). */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	int32 ErrorCode = 0;

	/** The HTTP status behind the error, or 0. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	int32 HttpStatus = 0;

	/** Why it failed, for logs (never contains the token). */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FString Message;

	/** Whether Contents is set: on a Final event with Outcome Done, and on a CheckResult. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	bool bHasContents = false;

	/** On done: the order contents, typed (break the struct for its pins). */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FXoOrderContents Contents;

	/** The same contents as the library's normalised JSON, e.g. for a server-side check. */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	FString ContentsJson;

	/** Live, or from the journal (Redelivered) / Xsolla (Restored: show "restored purchase"). */
	UPROPERTY(BlueprintReadOnly, Category = "Xsolla|Order Tracker")
	EXoOrigin Origin = EXoOrigin::Live;

	/** Whether this is the last event of its handle (Final or CheckResult). */
	bool IsLast() const { return Kind == EXoEventKind::Final || Kind == EXoEventKind::CheckResult; }
};

namespace XoTracker
{
	/** UTF-8 (from the library) to FString. */
	XOTRACKER_API FString ToFString(std::string_view Utf8);

	/** FString to UTF-8 (for the library). */
	XOTRACKER_API std::string ToUtf8(const FString& Text);

	XOTRACKER_API EXoEventKind Convert(xo::EventKind Kind);
	XOTRACKER_API EXoOrderStatus Convert(xo::OrderStatus Status);
	XOTRACKER_API EXoOutcome Convert(xo::Outcome Outcome);
	XOTRACKER_API EXoTransportState Convert(xo::TransportState State);
	XOTRACKER_API xo::Transport Convert(EXoTransport Transport);
	XOTRACKER_API EXoOrigin Convert(xo::Origin Origin);

	/** Copies typed contents (valid only during the callback) into a Blueprint struct. */
	XOTRACKER_API FXoOrderContents ToUnreal(const xo::ContentsView& Contents);

	/** Copies a library event (valid only during its callback) into a Blueprint struct. */
	XOTRACKER_API FXoOrderEvent ToUnreal(const xo::EventView& Event);

	/** An event for a request that could not start (Outcome Failed, with the library's message). */
	XOTRACKER_API FXoOrderEvent FailedToStart(int64 OrderId, const xo::Error& Error);
}

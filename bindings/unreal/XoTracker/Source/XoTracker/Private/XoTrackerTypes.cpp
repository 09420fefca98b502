#include "XoTrackerTypes.h"

namespace XoTracker
{
	FString ToFString(std::string_view Utf8)
	{
		if (Utf8.empty())
		{
			return FString();
		}
		const auto Converted = StringCast<TCHAR>(reinterpret_cast<const UTF8CHAR*>(Utf8.data()), static_cast<int32>(Utf8.size()));
		return FString(Converted.Length(), Converted.Get());
	}

	std::string ToUtf8(const FString& Text)
	{
		const auto Converted = StringCast<UTF8CHAR>(*Text, Text.Len());
		return std::string(reinterpret_cast<const char*>(Converted.Get()), static_cast<size_t>(Converted.Length()));
	}

	EXoEventKind Convert(xo::EventKind Kind)
	{
		switch (Kind)
		{
		case xo::EventKind::StatusChanged: return EXoEventKind::StatusChanged;
		case xo::EventKind::TransportChanged: return EXoEventKind::TransportChanged;
		case xo::EventKind::TokenExpired: return EXoEventKind::TokenExpired;
		case xo::EventKind::Final: return EXoEventKind::Final;
		case xo::EventKind::CheckResult: return EXoEventKind::CheckResult;
		}
		return EXoEventKind::StatusChanged;
	}

	EXoOrderStatus Convert(xo::OrderStatus Status)
	{
		switch (Status)
		{
		case xo::OrderStatus::None: return EXoOrderStatus::None;
		case xo::OrderStatus::New: return EXoOrderStatus::New;
		case xo::OrderStatus::Paid: return EXoOrderStatus::Paid;
		case xo::OrderStatus::Done: return EXoOrderStatus::Done;
		case xo::OrderStatus::Canceled: return EXoOrderStatus::Canceled;
		case xo::OrderStatus::Expired: return EXoOrderStatus::Expired;
		case xo::OrderStatus::Other: return EXoOrderStatus::Other;
		}
		return EXoOrderStatus::Other;
	}

	EXoOutcome Convert(xo::Outcome Outcome)
	{
		switch (Outcome)
		{
		case xo::Outcome::None: return EXoOutcome::None;
		case xo::Outcome::Done: return EXoOutcome::Done;
		case xo::Outcome::Canceled: return EXoOutcome::Canceled;
		case xo::Outcome::Expired: return EXoOutcome::Expired;
		case xo::Outcome::TimedOut: return EXoOutcome::TimedOut;
		case xo::Outcome::NotFound: return EXoOutcome::NotFound;
		case xo::Outcome::Unauthorized: return EXoOutcome::Unauthorized;
		case xo::Outcome::Failed: return EXoOutcome::Failed;
		}
		return EXoOutcome::Failed;
	}

	EXoTransportState Convert(xo::TransportState State)
	{
		switch (State)
		{
		case xo::TransportState::None: return EXoTransportState::None;
		case xo::TransportState::SocketConnected: return EXoTransportState::SocketConnected;
		case xo::TransportState::Polling: return EXoTransportState::Polling;
		case xo::TransportState::SocketRestored: return EXoTransportState::SocketRestored;
		case xo::TransportState::SocketReestablished: return EXoTransportState::SocketReestablished;
		}
		return EXoTransportState::None;
	}

	EXoOrigin Convert(xo::Origin Origin)
	{
		switch (Origin)
		{
		case xo::Origin::Live: return EXoOrigin::Live;
		case xo::Origin::Redelivered: return EXoOrigin::Redelivered;
		case xo::Origin::Restored: return EXoOrigin::Restored;
		}
		return EXoOrigin::Live;
	}

	xo::Transport Convert(EXoTransport Transport)
	{
		switch (Transport)
		{
		case EXoTransport::Centrifugo: return xo::Transport::Centrifugo;
		case EXoTransport::LegacySocket: return xo::Transport::LegacySocket;
		case EXoTransport::PollingOnly: return xo::Transport::PollingOnly;
		}
		return xo::Transport::Centrifugo;
	}

	namespace
	{
		bool CopyPrice(const xo::PriceView& From, FXoPrice& To)
		{
			To.Amount = ToFString(From.amount());
			To.AmountWithoutDiscount = ToFString(From.amount_without_discount());
			To.Currency = ToFString(From.currency());
			return static_cast<bool>(From);
		}
	}

	FXoOrderContents ToUnreal(const xo::ContentsView& Contents)
	{
		FXoOrderContents Out;
		Out.bIsFree = Contents.is_free();
		Out.bHasPrice = CopyPrice(Contents.price(), Out.Price);
		Out.bHasVirtualPrice = CopyPrice(Contents.virtual_price(), Out.VirtualPrice);
		Out.Items.Reserve(static_cast<int32>(Contents.size())); // at most XO_MAX_ITEMS
		for (const xo::ItemView Item : Contents)
		{
			FXoOrderItem Converted;
			Converted.Sku = ToFString(Item.sku());
			Converted.Quantity = Item.quantity();
			Converted.bIsFree = Item.is_free();
			Converted.bHasPrice = CopyPrice(Item.price(), Converted.Price);
			Converted.bHasVirtualPrice = CopyPrice(Item.virtual_price(), Converted.VirtualPrice);
			Out.Items.Add(MoveTemp(Converted));
		}
		return Out;
	}

	FXoOrderEvent ToUnreal(const xo::EventView& Event)
	{
		FXoOrderEvent Out;
		Out.Kind = Convert(Event.kind());
		Out.Handle = Event.handle();
		Out.OrderId = Event.order_id();
		Out.Status = Convert(Event.status());
		Out.StatusRaw = ToFString(Event.status_raw());
		Out.Outcome = Convert(Event.outcome());
		Out.TransportState = Convert(Event.transport_state());
		Out.ErrorCode = static_cast<int32>(Event.error_code());
		Out.HttpStatus = Event.http_status();
		Out.Message = ToFString(Event.message());
		if (const xo::ContentsView Contents = Event.contents())
		{
			Out.bHasContents = true;
			Out.Contents = ToUnreal(Contents);
		}
		Out.ContentsJson = ToFString(Event.contents_json());
		Out.Origin = Convert(Event.origin());
		return Out;
	}

	FXoOrderEvent FailedToStart(int64 OrderId, const xo::Error& Error)
	{
		FXoOrderEvent Out;
		Out.Kind = EXoEventKind::Final;
		Out.OrderId = OrderId;
		Out.Outcome = EXoOutcome::Failed;
		Out.ErrorCode = static_cast<int32>(Error.code());
		Out.Message = ToFString(Error.message().empty() ? Error.description() : std::string_view(Error.message()));
		return Out;
	}
}

#include "XoTrackOrderAction.h"

#include "XoTrackerSubsystem.h"

UXoTrackOrderAction* UXoTrackOrderAction::TrackXsollaOrder(UObject* WorldContextObject, int64 OrderId, const FString& Token)
{
	UXoTrackOrderAction* Action = NewObject<UXoTrackOrderAction>();
	Action->WorldContext = WorldContextObject;
	Action->OrderId = OrderId;
	Action->Token = Token;
	Action->RegisterWithGameInstance(WorldContextObject); // alive until SetReadyToDestroy
	return Action;
}

void UXoTrackOrderAction::Activate()
{
	UXoTrackerSubsystem* Tracker = UXoTrackerSubsystem::FromContext(WorldContext.Get());

	FString Error;
	int32 ErrorCode = static_cast<int32>(xo::ResultCode::NotConfigured);
	if (Tracker != nullptr)
	{
		TWeakObjectPtr<UXoTrackOrderAction> WeakThis(this);
		Handle = Tracker->TrackOrderWithCallback(OrderId, Token, [WeakThis](const FXoOrderEvent& Event)
		{
			if (UXoTrackOrderAction* Self = WeakThis.Get())
			{
				Self->HandleEvent(Event);
			}
		}, Error, &ErrorCode);
		Subsystem = Tracker;
	}
	else
	{
		Error = TEXT("Track Xsolla Order needs a world with a game instance.");
	}
	Token.Reset(); // the library keeps its own copy

	if (Handle == 0)
	{
		if (Error.IsEmpty())
		{
			Error = TEXT("Tracking could not start.");
		}
		const xo::Error Failure(static_cast<xo::ResultCode>(ErrorCode), XoTracker::ToUtf8(Error));
		OnFailed.Broadcast(XoTracker::FailedToStart(OrderId, Failure));
		Finish();
	}
}

void UXoTrackOrderAction::HandleEvent(const FXoOrderEvent& Event)
{
	if (bFinished)
	{
		return;
	}
	switch (Event.Kind)
	{
	case EXoEventKind::StatusChanged:
		OnStatusChanged.Broadcast(Event);
		return;
	case EXoEventKind::TokenExpired:
		OnTokenExpired.Broadcast(Event);
		return;
	case EXoEventKind::TransportChanged:
		return;
	case EXoEventKind::Final:
	case EXoEventKind::CheckResult:
		break;
	}

	Handle = 0; // the subsystem already forgot it
	switch (Event.Outcome)
	{
	case EXoOutcome::Done: OnDone.Broadcast(Event); break;
	case EXoOutcome::Canceled: OnCanceled.Broadcast(Event); break;
	case EXoOutcome::Expired: OnExpired.Broadcast(Event); break;
	case EXoOutcome::TimedOut: OnTimedOut.Broadcast(Event); break;
	case EXoOutcome::NotFound: OnNotFound.Broadcast(Event); break;
	case EXoOutcome::Unauthorized: OnUnauthorized.Broadcast(Event); break;
	case EXoOutcome::Failed:
	case EXoOutcome::None:
		OnFailed.Broadcast(Event);
		break;
	}
	Finish();
}

void UXoTrackOrderAction::Cancel()
{
	if (Handle != 0)
	{
		if (UXoTrackerSubsystem* Tracker = Subsystem.Get())
		{
			Tracker->CancelOrder(Handle);
		}
		Handle = 0;
	}
	Finish();
}

bool UXoTrackOrderAction::UpdateToken(const FString& NewToken)
{
	UXoTrackerSubsystem* Tracker = Subsystem.Get();
	FString Error;
	return Tracker != nullptr && Handle != 0 && Tracker->UpdateToken(Handle, NewToken, Error);
}

void UXoTrackOrderAction::Finish()
{
	if (!bFinished)
	{
		bFinished = true;
		SetReadyToDestroy();
	}
}

void UXoTrackOrderAction::BeginDestroy()
{
	// Normally finished already; if the node is collected early, stop its tracker.
	if (Handle != 0)
	{
		if (UXoTrackerSubsystem* Tracker = Subsystem.Get())
		{
			Tracker->CancelOrder(Handle);
		}
		Handle = 0;
	}
	Super::BeginDestroy();
}

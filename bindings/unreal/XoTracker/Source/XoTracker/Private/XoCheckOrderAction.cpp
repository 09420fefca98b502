#include "XoCheckOrderAction.h"

#include "XoTrackerSubsystem.h"

UXoCheckOrderAction* UXoCheckOrderAction::CheckXsollaOrder(UObject* WorldContextObject, int64 OrderId, const FString& Token)
{
	UXoCheckOrderAction* Action = NewObject<UXoCheckOrderAction>();
	Action->WorldContext = WorldContextObject;
	Action->OrderId = OrderId;
	Action->Token = Token;
	Action->RegisterWithGameInstance(WorldContextObject); // alive until SetReadyToDestroy
	return Action;
}

void UXoCheckOrderAction::Activate()
{
	UXoTrackerSubsystem* Tracker = UXoTrackerSubsystem::FromContext(WorldContext.Get());
	FString Error;
	int32 ErrorCode = static_cast<int32>(xo::ResultCode::NotConfigured);
	if (Tracker != nullptr)
	{
		TWeakObjectPtr<UXoCheckOrderAction> WeakThis(this);
		Handle = Tracker->CheckOrderWithCallback(OrderId, Token, [WeakThis](const FXoOrderEvent& Event)
		{
			if (UXoCheckOrderAction* Self = WeakThis.Get())
			{
				Self->HandleEvent(Event);
			}
		}, Error, &ErrorCode);
		Subsystem = Tracker;
	}
	else
	{
		Error = TEXT("Check Xsolla Order needs a world with a game instance.");
	}
	Token.Reset(); // the library keeps its own copy

	if (Handle == 0)
	{
		const xo::Error Failure(static_cast<xo::ResultCode>(ErrorCode),
			XoTracker::ToUtf8(Error.IsEmpty() ? FString(TEXT("The check could not start.")) : Error));
		FXoOrderEvent Failed = XoTracker::FailedToStart(OrderId, Failure);
		Failed.Kind = EXoEventKind::CheckResult;
		OnFailed.Broadcast(Failed);
		Finish();
	}
}

void UXoCheckOrderAction::HandleEvent(const FXoOrderEvent& Event)
{
	if (bFinished || Event.Kind != EXoEventKind::CheckResult)
	{
		return;
	}
	Handle = 0; // the subsystem already forgot it
	switch (Event.Outcome)
	{
	case EXoOutcome::Done: OnDone.Broadcast(Event); break;
	case EXoOutcome::None: OnPending.Broadcast(Event); break;
	case EXoOutcome::Canceled: OnCanceled.Broadcast(Event); break;
	case EXoOutcome::Expired: OnExpired.Broadcast(Event); break;
	case EXoOutcome::NotFound: OnNotFound.Broadcast(Event); break;
	case EXoOutcome::Unauthorized: OnUnauthorized.Broadcast(Event); break;
	case EXoOutcome::TimedOut:
	case EXoOutcome::Failed:
		OnFailed.Broadcast(Event);
		break;
	}
	Finish();
}

void UXoCheckOrderAction::Cancel()
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

void UXoCheckOrderAction::Finish()
{
	if (!bFinished)
	{
		bFinished = true;
		SetReadyToDestroy();
	}
}

void UXoCheckOrderAction::BeginDestroy()
{
	// Normally finished already; if the node is collected early, stop its check.
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

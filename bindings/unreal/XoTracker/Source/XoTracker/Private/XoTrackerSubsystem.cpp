#include "XoTrackerSubsystem.h"

#include "Engine/Engine.h"
#include "Engine/GameInstance.h"
#include "Engine/World.h"

#include "XoTrackerModule.h"

void UXoTrackerSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	if (FXoTrackerModule::IsAvailable())
	{
		FXoTrackerModule::Get().AcquireSession(this);
	}
}

void UXoTrackerSubsystem::Deinitialize()
{
	// Each xo::Tracker cancels in its destructor: no callback for this game instance after this.
	Requests.Empty();
	if (FXoTrackerModule::IsAvailable())
	{
		FXoTrackerModule::Get().ReleaseSession(this); // the last game instance ends the session
	}
	Super::Deinitialize();
}

UXoTrackerSubsystem* UXoTrackerSubsystem::FromContext(const UObject* WorldContextObject)
{
	const UWorld* World = GEngine != nullptr
		? GEngine->GetWorldFromContextObject(WorldContextObject, EGetWorldErrorMode::LogAndReturnNull) : nullptr;
	UGameInstance* GameInstance = World != nullptr ? World->GetGameInstance() : nullptr;
	return GameInstance != nullptr ? GameInstance->GetSubsystem<UXoTrackerSubsystem>() : nullptr;
}

int64 UXoTrackerSubsystem::TrackOrder(int64 OrderId, const FString& Token, FString& OutError)
{
	return Start(false, OrderId, Token, nullptr, OutError, nullptr);
}

int64 UXoTrackerSubsystem::CheckOrder(int64 OrderId, const FString& Token, FString& OutError)
{
	return Start(true, OrderId, Token, nullptr, OutError, nullptr);
}

int64 UXoTrackerSubsystem::TrackOrderWithCallback(int64 OrderId, const FString& Token, TFunction<void(const FXoOrderEvent&)> OnEvent,
	FString& OutError, int32* OutErrorCode)
{
	return Start(false, OrderId, Token, MoveTemp(OnEvent), OutError, OutErrorCode);
}

int64 UXoTrackerSubsystem::CheckOrderWithCallback(int64 OrderId, const FString& Token, TFunction<void(const FXoOrderEvent&)> OnEvent,
	FString& OutError, int32* OutErrorCode)
{
	return Start(true, OrderId, Token, MoveTemp(OnEvent), OutError, OutErrorCode);
}

int64 UXoTrackerSubsystem::Start(bool bCheck, int64 OrderId, const FString& Token, TFunction<void(const FXoOrderEvent&)> OnEvent,
	FString& OutError, int32* OutErrorCode)
{
	check(IsInGameThread());
	if (OutErrorCode != nullptr)
	{
		*OutErrorCode = static_cast<int32>(xo::ResultCode::NotConfigured);
	}
	if (!FXoTrackerModule::IsAvailable())
	{
		OutError = TEXT("The XoTracker module is not loaded.");
		return 0;
	}
	const xo::Session* Session = FXoTrackerModule::Get().GetSession(&OutError);
	if (Session == nullptr)
	{
		return 0;
	}

	// Queued delivery: this runs inside the module's ticker, on the game thread. The weak pointer
	// keeps a late event (there is none after Deinitialize, which cancels) away from a dead object.
	TWeakObjectPtr<UXoTrackerSubsystem> WeakThis(this);
	xo::EventCallback Callback = [WeakThis](const xo::EventView& Event)
	{
		if (UXoTrackerSubsystem* Self = WeakThis.Get())
		{
			Self->HandleEvent(Event);
		}
	};
	const std::string Utf8Token = XoTracker::ToUtf8(Token);
	xo::Expected<xo::Tracker> Started = bCheck
		? Session->check_order(OrderId, Utf8Token, MoveTemp(Callback))
		: Session->track_order(OrderId, Utf8Token, MoveTemp(Callback));
	if (!Started)
	{
		OutError = XoTracker::ToFString(Started.error().message());
		if (OutErrorCode != nullptr)
		{
			*OutErrorCode = static_cast<int32>(Started.error().code());
		}
		return 0;
	}
	if (OutErrorCode != nullptr)
	{
		*OutErrorCode = 0;
	}
	const int64 Handle = Started->handle();
	TUniquePtr<FXoTrackerRequest> Request = MakeUnique<FXoTrackerRequest>();
	Request->Tracker = MoveTemp(*Started);
	Request->OnEvent = MoveTemp(OnEvent);
	Requests.Add(Handle, MoveTemp(Request));
	OutError.Reset();
	return Handle;
}

bool UXoTrackerSubsystem::CancelOrder(int64 Handle)
{
	TUniquePtr<FXoTrackerRequest> Request;
	if (!Requests.RemoveAndCopyValue(Handle, Request))
	{
		return false;
	}
	return Request->Tracker.cancel();
}

bool UXoTrackerSubsystem::UpdateToken(int64 Handle, const FString& Token, FString& OutError)
{
	const TUniquePtr<FXoTrackerRequest>* Request = Requests.Find(Handle);
	if (Request == nullptr)
	{
		OutError = TEXT("Unknown handle: the tracker ended or was cancelled.");
		return false;
	}
	const xo::Expected<void> Result = (*Request)->Tracker.update_token(XoTracker::ToUtf8(Token));
	if (!Result)
	{
		OutError = XoTracker::ToFString(Result.error().message());
		return false;
	}
	OutError.Reset();
	return true;
}

int32 UXoTrackerSubsystem::ResumePending(const FString& Token, FString& OutError)
{
	check(IsInGameThread());
	if (!FXoTrackerModule::IsAvailable())
	{
		OutError = TEXT("The XoTracker module is not loaded.");
		return -1;
	}
	const xo::Session* Session = FXoTrackerModule::Get().GetSession(&OutError);
	if (Session == nullptr)
	{
		return -1;
	}
	// Resumed handles are not in Requests: their events reach the delegates only (weakly, as above).
	TWeakObjectPtr<UXoTrackerSubsystem> WeakThis(this);
	xo::Expected<int> Resumed = Session->resume_pending(XoTracker::ToUtf8(Token), [WeakThis](const xo::EventView& Event)
	{
		if (UXoTrackerSubsystem* Self = WeakThis.Get())
		{
			Self->HandleEvent(Event);
		}
	});
	if (!Resumed)
	{
		OutError = XoTracker::ToFString(Resumed.error().message());
		return -1;
	}
	OutError.Reset();
	return static_cast<int32>(*Resumed);
}

bool UXoTrackerSubsystem::AcknowledgeOrder(int64 OrderId, FString& OutError)
{
	check(IsInGameThread());
	if (!FXoTrackerModule::IsAvailable())
	{
		OutError = TEXT("The XoTracker module is not loaded.");
		return false;
	}
	const xo::Session* Session = FXoTrackerModule::Get().GetSession(&OutError);
	if (Session == nullptr)
	{
		return false;
	}
	const xo::Expected<void> Result = Session->acknowledge(OrderId);
	if (!Result)
	{
		OutError = XoTracker::ToFString(Result.error().message());
		return false;
	}
	OutError.Reset();
	return true;
}

bool UXoTrackerSubsystem::IsTracking(int64 Handle) const
{
	return Requests.Contains(Handle);
}

void UXoTrackerSubsystem::NotifyNetworkChanged()
{
	if (FXoTrackerModule::IsAvailable())
	{
		FXoTrackerModule::Get().NotifyNetworkChanged();
	}
}

void UXoTrackerSubsystem::HandleEvent(const xo::EventView& Event)
{
	const FXoOrderEvent Converted = XoTracker::ToUnreal(Event);

	// The per-request callback is copied (or, on the last event, taken) before anything runs: a
	// handler may cancel or start requests. Dropping the finished request destroys its tracker from
	// inside its own callback, which xo_tracker.hpp allows (the callback is released on return).
	TFunction<void(const FXoOrderEvent&)> OnEvent;
	if (Converted.IsLast())
	{
		TUniquePtr<FXoTrackerRequest> Finished;
		if (Requests.RemoveAndCopyValue(Converted.Handle, Finished))
		{
			OnEvent = MoveTemp(Finished->OnEvent);
		}
	}
	else if (const TUniquePtr<FXoTrackerRequest>* Request = Requests.Find(Converted.Handle))
	{
		OnEvent = (*Request)->OnEvent;
	}

	if (OnEvent)
	{
		OnEvent(Converted);
	}
	OnOrderEvent.Broadcast(Converted);
	switch (Converted.Kind)
	{
	case EXoEventKind::StatusChanged:
		OnOrderStatusChanged.Broadcast(Converted);
		break;
	case EXoEventKind::TokenExpired:
		OnOrderTokenExpired.Broadcast(Converted);
		break;
	case EXoEventKind::Final:
		OnOrderFinished.Broadcast(Converted);
		break;
	case EXoEventKind::CheckResult:
		OnOrderChecked.Broadcast(Converted);
		break;
	case EXoEventKind::TransportChanged:
		break;
	}
}

// The "Track Xsolla Order" Blueprint node: one output pin per outcome, fired on the game thread.
#pragma once

#include "CoreMinimal.h"
#include "Kismet/BlueprintAsyncActionBase.h"

#include "XoTrackerTypes.h"

#include "XoTrackOrderAction.generated.h"

class UXoTrackerSubsystem;

DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FXoTrackOrderPin, const FXoOrderEvent&, Event);

/**
 * Tracks one order from a Blueprint. Exactly one outcome pin fires (Done, Canceled, Expired,
 * TimedOut, NotFound, Unauthorized or Failed), after any number of StatusChanged/TokenExpired.
 * The node stays alive (registered with the game instance) until then, or until Cancel.
 */
UCLASS(meta = (ExposedAsyncProxy = "AsyncAction"))
class XOTRACKER_API UXoTrackOrderAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker",
		meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject", DisplayName = "Track Xsolla Order"))
	static UXoTrackOrderAction* TrackXsollaOrder(UObject* WorldContextObject, int64 OrderId, const FString& Token);

	/** The status changed (New, Paid...). Paid is not delivered yet: wait for Done. */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoTrackOrderPin OnStatusChanged;

	/** The token was refused: call Update Token on the node (Async Action pin) in time. */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoTrackOrderPin OnTokenExpired;

	/** Delivered: grant the items (Event.Contents.Items). */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoTrackOrderPin OnDone;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoTrackOrderPin OnCanceled;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoTrackOrderPin OnExpired;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoTrackOrderPin OnTimedOut;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoTrackOrderPin OnNotFound;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoTrackOrderPin OnUnauthorized;

	/** Tracking failed, or could not start (Event.Message says why). */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoTrackOrderPin OnFailed;

	virtual void Activate() override;
	virtual void BeginDestroy() override;

	/** Stops tracking; no pin fires afterwards. */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	void Cancel();

	/** Hands the tracker a fresh token (from OnTokenExpired). */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	bool UpdateToken(const FString& NewToken);

private:
	void HandleEvent(const FXoOrderEvent& Event);
	void Finish();

	TWeakObjectPtr<UObject> WorldContext;
	TWeakObjectPtr<UXoTrackerSubsystem> Subsystem;
	int64 OrderId = 0;
	FString Token; // cleared once tracking starts
	int64 Handle = 0;
	bool bFinished = false;
};

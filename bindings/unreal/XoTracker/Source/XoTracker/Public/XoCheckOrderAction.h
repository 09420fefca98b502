// The "Check Xsolla Order" Blueprint node: asks once for an order's status and contents, and fires
// one output pin on the game thread.
#pragma once

#include "CoreMinimal.h"
#include "Kismet/BlueprintAsyncActionBase.h"

#include "XoTrackerTypes.h"

#include "XoCheckOrderAction.generated.h"

class UXoTrackerSubsystem;

DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FXoCheckOrderPin, const FXoOrderEvent&, Event);

/**
 * Checks one order from a Blueprint (one request, no tracking). Exactly one pin fires: Done
 * (delivered: Event.Contents), Pending (not final yet: Event.Status is New, Paid or Other),
 * Canceled, Expired, NotFound, Unauthorized or Failed. Use Track Xsolla Order to wait for Done.
 */
UCLASS(meta = (ExposedAsyncProxy = "AsyncAction"))
class XOTRACKER_API UXoCheckOrderAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker",
		meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject", DisplayName = "Check Xsolla Order"))
	static UXoCheckOrderAction* CheckXsollaOrder(UObject* WorldContextObject, int64 OrderId, const FString& Token);

	/** Delivered: grant the items (Event.Contents.Items). */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoCheckOrderPin OnDone;

	/** Not final yet (Event.Status: New, Paid or Other). Paid is not delivered. */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoCheckOrderPin OnPending;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoCheckOrderPin OnCanceled;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoCheckOrderPin OnExpired;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoCheckOrderPin OnNotFound;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoCheckOrderPin OnUnauthorized;

	/** The check failed, or could not start (Event.Message says why). */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoCheckOrderPin OnFailed;

	virtual void Activate() override;
	virtual void BeginDestroy() override;

	/** Abandons the check; no pin fires afterwards. */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	void Cancel();

private:
	void HandleEvent(const FXoOrderEvent& Event);
	void Finish();

	TWeakObjectPtr<UObject> WorldContext;
	TWeakObjectPtr<UXoTrackerSubsystem> Subsystem;
	int64 OrderId = 0;
	FString Token; // cleared once the check starts
	int64 Handle = 0;
	bool bFinished = false;
};

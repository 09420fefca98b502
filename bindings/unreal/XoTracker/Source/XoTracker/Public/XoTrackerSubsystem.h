// Tracks Xsolla orders for one game instance. Every event arrives on the game thread.
#pragma once

#include "CoreMinimal.h"
#include "Subsystems/GameInstanceSubsystem.h"
#include "Templates/Function.h"
#include "Templates/UniquePtr.h"

#include "XoTrackerTypes.h"

#include "XoTrackerSubsystem.generated.h"

DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FXoOrderEventDelegate, const FXoOrderEvent&, Event);

/** One running tracker or check of UXoTrackerSubsystem (not reflected). */
struct FXoTrackerRequest
{
	xo::Tracker Tracker; // cancels on destruction
	TFunction<void(const FXoOrderEvent&)> OnEvent;
};

/**
 * Order tracking for a game instance: TrackOrder / CheckOrder / CancelOrder, with the results
 * broadcast on the game thread. Trackers still running when the game instance shuts down are
 * cancelled (no callback after that). The library session lives while at least one game instance
 * does: stopping PIE ends it, and the next PIE run configures it from the current settings.
 *
 *   UXoTrackerSubsystem* Xo = GetGameInstance()->GetSubsystem<UXoTrackerSubsystem>();
 *   Xo->OnOrderFinished.AddDynamic(this, &UMyShop::HandleOrderFinished);
 *   FString Error;
 *   const int64 Handle = Xo->TrackOrder(OrderId, UserToken, Error);
 */
UCLASS()
class XOTRACKER_API UXoTrackerSubsystem : public UGameInstanceSubsystem
{
	GENERATED_BODY()

public:
	virtual void Initialize(FSubsystemCollectionBase& Collection) override;
	virtual void Deinitialize() override;

	/**
	 * Starts tracking an order until it is done, canceled, expired or fails: StatusChanged events,
	 * then exactly one Final event (OnOrderFinished). Returns the handle, or 0 with OutError set.
	 */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	int64 TrackOrder(int64 OrderId, const FString& Token, FString& OutError);

	/** Asks once for an order's status and contents: one CheckResult event (OnOrderChecked). */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	int64 CheckOrder(int64 OrderId, const FString& Token, FString& OutError);

	/** Stops a tracker or check; no event of it is broadcast afterwards. False if unknown or over. */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	bool CancelOrder(int64 Handle);

	/** Gives a tracker a fresh token (after a TokenExpired event). */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	bool UpdateToken(int64 Handle, const FString& Token, FString& OutError);

	/** Whether the handle still runs (has not delivered its last event nor been cancelled). */
	UFUNCTION(BlueprintPure, Category = "Xsolla|Order Tracker")
	bool IsTracking(int64 Handle) const;

	/** Whether any tracker or check of this game instance is running. */
	bool HasTrackedOrders() const { return Requests.Num() > 0; }

	/** The subsystem of the world context's game instance, or null (no world or game instance). */
	static UXoTrackerSubsystem* FromContext(const UObject* WorldContextObject);
	/**
	 * Purchase journal, once at start (after sign-in): tracks the user's unfinished orders again and
	 * redelivers every done order not acknowledged yet through OnOrderFinished (Origin Redelivered;
	 * restored purchases from Xsolla arrive later with Origin Restored). Returns how many, or -1
	 * with OutError set.
	 */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	int32 ResumePending(const FString& Token, FString& OutError);

	/**
	 * After granting a done order's items: never deliver it again (durable on return; idempotent).
	 * Make grants idempotent on the order id: a crash between the grant and this call redelivers.
	 * False with OutError for an unknown order or when it could only be kept in memory.
	 */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	bool AcknowledgeOrder(int64 OrderId, FString& OutError);

	/** Tells the library connectivity changed (trackers check at once, sockets reconnect). */
	UFUNCTION(BlueprintCallable, Category = "Xsolla|Order Tracker")
	void NotifyNetworkChanged();

	/**
	 * C++: TrackOrder with a callback for this order only (called before the delegates, on the
	 * game thread). On failure returns 0 and sets OutError and, if given, OutErrorCode (an xo_result).
	 */
	int64 TrackOrderWithCallback(int64 OrderId, const FString& Token, TFunction<void(const FXoOrderEvent&)> OnEvent,
		FString& OutError, int32* OutErrorCode = nullptr);

	/** C++: CheckOrder with a callback for this check only (called before the delegates). */
	int64 CheckOrderWithCallback(int64 OrderId, const FString& Token, TFunction<void(const FXoOrderEvent&)> OnEvent,
		FString& OutError, int32* OutErrorCode = nullptr);

	/** Every event of every tracker and check of this game instance. */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoOrderEventDelegate OnOrderEvent;

	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoOrderEventDelegate OnOrderStatusChanged;

	/** The token was refused: call UpdateToken within the token wait (60 s by default). */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoOrderEventDelegate OnOrderTokenExpired;

	/** The last event of a tracker. Grant items only when Outcome is Done. */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoOrderEventDelegate OnOrderFinished;

	/** The answer to CheckOrder. */
	UPROPERTY(BlueprintAssignable, Category = "Xsolla|Order Tracker")
	FXoOrderEventDelegate OnOrderChecked;

private:
	int64 Start(bool bCheck, int64 OrderId, const FString& Token, TFunction<void(const FXoOrderEvent&)> OnEvent,
		FString& OutError, int32* OutErrorCode);
	void HandleEvent(const xo::EventView& Event);

	TMap<int64, TUniquePtr<FXoTrackerRequest>> Requests;
};

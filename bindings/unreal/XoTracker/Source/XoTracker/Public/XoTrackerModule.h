// The XoTracker runtime module: loads the native library, owns the process-wide xo::Session for as
// long as a game instance uses it, delivers the library's queued events on the game thread every
// frame, forwards the application lifecycle, and shuts the library down (joining its threads)
// when the last game instance ends (PIE stop) and before the module goes away.
#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "Modules/ModuleManager.h"

#include "XoTrackerTypes.h"

THIRD_PARTY_INCLUDES_START
#include "xo_tracker.hpp"
THIRD_PARTY_INCLUDES_END

XOTRACKER_API DECLARE_LOG_CATEGORY_EXTERN(LogXoTracker, Log, All);

enum class ENetworkConnectionType : uint8;

class XOTRACKER_API FXoTrackerModule : public IModuleInterface
{
public:
	/** The loaded module (loads it if needed). Game thread. */
	static FXoTrackerModule& Get();

	/** Whether the module is loaded (false during and after engine shutdown). */
	static bool IsAvailable();

	virtual void StartupModule() override;
	virtual void ShutdownModule() override;

	/** Whether the native library is loaded and speaks this header's ABI. */
	bool IsLibraryReady() const { return bLibraryReady; }

	/**
	 * The session, configured from UXoTrackerSettings on first use (or by Configure). Game thread.
	 * Null when the library is unavailable or the configuration is invalid; OutError then says why.
	 * Settings changed since the session started are applied here, by restarting the session,
	 * as soon as no order of any game instance is being tracked.
	 */
	const xo::Session* GetSession(FString* OutError = nullptr);

	/**
	 * Configures the library from code instead of the project settings. Only while no session is
	 * running (before the first tracker, or after ShutdownSession). Delivery is always queued.
	 * The session ends with the last game instance (then the settings apply again).
	 */
	bool Configure(xo::Config Config, FString& OutError);

	/** Cancels every tracker (of every game instance) and stops the library's threads. */
	void ShutdownSession();

	/** A game instance's subsystem starts (Acquire) or stops (Release) using the session; the
	 *  last Release shuts it down, so the next game instance (PIE run) configures afresh. */
	void AcquireSession(const class UXoTrackerSubsystem* User);
	void ReleaseSession(const class UXoTrackerSubsystem* User);

	/** Tells the library connectivity changed: trackers check at once and sockets reconnect. */
	void NotifyNetworkChanged();

private:
	bool LoadNativeLibrary(); // not "LoadLibrary": a Windows macro
	bool Tick(float DeltaTime);
	void HandleEnterBackground();
	void HandleEnterForeground();
	void HandleNetworkConnectionChanged(ENetworkConnectionType ConnectionType);
	void InstallLogCallback();
	bool AnyOrderTracked() const;

	void* LibraryHandle = nullptr;
	bool bLibraryReady = false;
	bool bShuttingDown = false;
	TOptional<xo::Session> Session;
	xo::Config AppliedConfig;         // what Session was configured with
	bool bConfiguredFromCode = false; // by Configure(): settings changes do not replace it
	bool bAppActive = true;           // re-applied after each configure (xo_shutdown resets it)
	bool bReportedPendingSettings = false;
	EXoLogLevel AppliedLogLevel = EXoLogLevel::Off;
	TArray<const class UXoTrackerSubsystem*> Users;
	FString LastConfigureError;
	FTSTicker::FDelegateHandle TickHandle;
	FDelegateHandle EnterBackgroundHandle;
	FDelegateHandle EnterForegroundHandle;
	FDelegateHandle NetworkChangedHandle;
};

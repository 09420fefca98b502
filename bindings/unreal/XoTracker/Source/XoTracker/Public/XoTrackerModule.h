// The XoTracker runtime module: loads the native library, owns the process-wide xo::Session,
// delivers the library's queued events on the game thread every frame, forwards the application
// lifecycle, and shuts the library down (joining its threads) before the module goes away.
#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "Modules/ModuleManager.h"

#include "xo_tracker.hpp"

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
	 */
	const xo::Session* GetSession(FString* OutError = nullptr);

	/**
	 * Configures the library from code instead of the project settings. Only while no session is
	 * running (before the first tracker, or after ShutdownSession). Delivery is always queued.
	 */
	bool Configure(xo::Config Config, FString& OutError);

	/** Cancels every tracker (of every game instance) and stops the library's threads. */
	void ShutdownSession();

	/** Tells the library connectivity changed: trackers check at once and sockets reconnect. */
	void NotifyNetworkChanged();

private:
	bool LoadNativeLibrary(); // not "LoadLibrary": a Windows macro
	bool Tick(float DeltaTime);
	void HandleEnterBackground();
	void HandleEnterForeground();
	void HandleNetworkConnectionChanged(ENetworkConnectionType ConnectionType);
	void InstallLogCallback();

	void* LibraryHandle = nullptr;
	bool bLibraryReady = false;
	bool bShuttingDown = false;
	TOptional<xo::Session> Session;
	FString LastConfigureError;
	FTSTicker::FDelegateHandle TickHandle;
	FDelegateHandle EnterBackgroundHandle;
	FDelegateHandle EnterForegroundHandle;
	FDelegateHandle NetworkChangedHandle;
};

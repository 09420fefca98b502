#include "XoTrackerModule.h"

#include "HAL/PlatformMisc.h"
#include "HAL/PlatformProcess.h"
#include "Interfaces/IPluginManager.h"
#include "Misc/CoreDelegates.h"
#include "Misc/Paths.h"

#include "XoTrackerSettings.h"
#include "XoTrackerSubsystem.h"
#include "XoTrackerTypes.h"

#if PLATFORM_ANDROID
#include "Android/AndroidApplication.h"
#include "Android/AndroidJNI.h"
#endif

DEFINE_LOG_CATEGORY(LogXoTracker);

#define LOCTEXT_NAMESPACE "FXoTrackerModule"

namespace
{
	// Where XoTrackerLibrary.Build.cs stages the desktop library, relative to
	// <Plugin>/Binaries/ThirdParty/XoTracker/. Null: linked statically (iOS) or loaded by the
	// platform before the game library (Android, through the UPL file).
#if PLATFORM_WINDOWS
	const TCHAR* const XoTrackerRuntimeLibraryPath = TEXT("Win64/xo_tracker.dll");
#elif PLATFORM_MAC
	const TCHAR* const XoTrackerRuntimeLibraryPath = TEXT("Mac/libxo_tracker.dylib");
#elif PLATFORM_LINUX && PLATFORM_CPU_ARM_FAMILY
	const TCHAR* const XoTrackerRuntimeLibraryPath = TEXT("Linux/aarch64-unknown-linux-gnueabi/libxo_tracker.so");
#elif PLATFORM_LINUX
	const TCHAR* const XoTrackerRuntimeLibraryPath = TEXT("Linux/x86_64-unknown-linux-gnu/libxo_tracker.so");
#else
	const TCHAR* const XoTrackerRuntimeLibraryPath = nullptr;
#endif

	FString Describe(const xo::Error& Error)
	{
		return FString::Printf(TEXT("%s (%d)"), *XoTracker::ToFString(Error.message()), static_cast<int32>(Error.code()));
	}

	bool SameConfig(const xo::Config& A, const xo::Config& B)
	{
		return A.project_id == B.project_id && A.transport == B.transport && A.delivery == B.delivery &&
			A.centrifugo_url == B.centrifugo_url && A.legacy_socket_url == B.legacy_socket_url &&
			A.api_base_url == B.api_base_url && A.poll_interval_ms == B.poll_interval_ms &&
			A.socket_reestablish_ms == B.socket_reestablish_ms && A.polling_deadline_ms == B.polling_deadline_ms &&
			A.overall_deadline_ms == B.overall_deadline_ms && A.token_wait_ms == B.token_wait_ms &&
			A.request_timeout_ms == B.request_timeout_ms && A.backoff_min_ms == B.backoff_min_ms &&
			A.backoff_max_ms == B.backoff_max_ms && A.worker_threads == B.worker_threads &&
			A.allow_insecure_loopback == B.allow_insecure_loopback;
	}
}

FXoTrackerModule& FXoTrackerModule::Get()
{
	return FModuleManager::LoadModuleChecked<FXoTrackerModule>(TEXT("XoTracker"));
}

bool FXoTrackerModule::IsAvailable()
{
	return FModuleManager::Get().IsModuleLoaded(TEXT("XoTracker"));
}

void FXoTrackerModule::StartupModule()
{
	bShuttingDown = false;
	bLibraryReady = LoadNativeLibrary();
	if (!bLibraryReady)
	{
		return; // every entry point checks bLibraryReady: no call ever reaches a missing library
	}
	UE_LOG(LogXoTracker, Log, TEXT("xo-tracker %s loaded"), *XoTracker::ToFString(xo::version()));
#if PLATFORM_ANDROID
	// TLS checks certificates with Android's verifier once the library has the JVM and a Context
	// (the APK must bundle rustls-platform-verifier's AAR); otherwise it uses the bundled roots.
	if (JNIEnv* Env = FAndroidApplication::GetJavaEnv())
	{
		JavaVM* Vm = nullptr;
		if (Env->GetJavaVM(&Vm) == JNI_OK && xo_android_init(Vm, FJavaWrapper::GameActivityThis) != XO_RESULT_OK)
		{
			UE_LOG(LogXoTracker, Warning, TEXT("%s"), *XoTracker::ToFString(xo_last_error()));
		}
	}
#endif

	// Queued events are delivered here, on the game thread, once per frame.
	TickHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateRaw(this, &FXoTrackerModule::Tick), 0.0f);

	EnterBackgroundHandle = FCoreDelegates::ApplicationWillEnterBackgroundDelegate.AddRaw(this, &FXoTrackerModule::HandleEnterBackground);
	EnterForegroundHandle = FCoreDelegates::ApplicationHasEnteredForegroundDelegate.AddRaw(this, &FXoTrackerModule::HandleEnterForeground);
	NetworkChangedHandle = FCoreDelegates::OnNetworkConnectionChanged.AddRaw(this, &FXoTrackerModule::HandleNetworkConnectionChanged);
}

bool FXoTrackerModule::LoadNativeLibrary()
{
#if !WITH_XO_TRACKER
	// XoTrackerLibrary.Build.cs found no library for this platform (its build log says which file).
	UE_LOG(LogXoTracker, Warning, TEXT("xo-tracker has no native library for this platform (built with WITH_XO_TRACKER=0); order tracking is disabled."));
	return false;
#else
	if (XoTrackerRuntimeLibraryPath != nullptr)
	{
		const TSharedPtr<IPlugin> Plugin = IPluginManager::Get().FindPlugin(TEXT("XoTracker"));
		if (!Plugin.IsValid())
		{
			UE_LOG(LogXoTracker, Error, TEXT("The XoTracker plugin is not registered; order tracking is disabled."));
			return false;
		}
		const FString Directory = FPaths::Combine(Plugin->GetBaseDir(), TEXT("Binaries"), TEXT("ThirdParty"), TEXT("XoTracker"));
		const FString Path = FPaths::Combine(Directory, XoTrackerRuntimeLibraryPath);
		const FString LibraryDirectory = FPaths::GetPath(Path);
		FPlatformProcess::PushDllDirectory(*LibraryDirectory);
		LibraryHandle = FPlatformProcess::GetDllHandle(*Path);
		FPlatformProcess::PopDllDirectory(*LibraryDirectory);
		if (LibraryHandle == nullptr)
		{
			UE_LOG(LogXoTracker, Error, TEXT("Cannot load %s; order tracking is disabled. Was the plugin packaged with bindings/unreal/package.sh?"), *Path);
			return false;
		}
	}
	if (!xo::abi_compatible())
	{
		UE_LOG(LogXoTracker, Error, TEXT("The xo-tracker library speaks ABI %u, the plugin was built for %u; order tracking is disabled."),
			xo::abi_version(), static_cast<uint32>(XO_ABI_VERSION));
		return false;
	}
	return true;
#endif
}

void FXoTrackerModule::ShutdownModule()
{
	bShuttingDown = true;
	if (TickHandle.IsValid())
	{
		FTSTicker::GetCoreTicker().RemoveTicker(TickHandle);
		TickHandle.Reset();
	}
	FCoreDelegates::ApplicationWillEnterBackgroundDelegate.Remove(EnterBackgroundHandle);
	FCoreDelegates::ApplicationHasEnteredForegroundDelegate.Remove(EnterForegroundHandle);
	FCoreDelegates::OnNetworkConnectionChanged.Remove(NetworkChangedHandle);

	if (bLibraryReady)
	{
		// Cancels every tracker and joins the library's threads (bounded by 2 s): after this no
		// library thread runs and no callback into this module's code can happen.
		ShutdownSession();
		(void)xo_shutdown(); // also when someone used the C API directly; idempotent
		// The log trampoline lives in this module's code: remove it once nothing can log.
		(void)xo::clear_log_callback();
	}
	// LibraryHandle is deliberately not freed: unloading code that a thread might still be leaving
	// (if the 2 s bound ever expired) is the crash this module exists to avoid. The library is tiny
	// and the process is exiting; on Linux and Android it is linked -z nodelete anyway.
	bLibraryReady = false;
}

const xo::Session* FXoTrackerModule::GetSession(FString* OutError)
{
	check(IsInGameThread());
	if (!bLibraryReady || bShuttingDown)
	{
		if (OutError != nullptr)
		{
			*OutError = TEXT("The xo-tracker library is not available (see LogXoTracker).");
		}
		return nullptr;
	}
	const UXoTrackerSettings* Settings = GetDefault<UXoTrackerSettings>();
	if (Session.IsSet() && !bConfiguredFromCode)
	{
		// Project Settings changed since the session started: restart it with them, once no order
		// is tracked (xo_configure refuses while trackers run, and a restart would cancel them).
		xo::Config Wanted = Settings->ToConfig();
		Wanted.delivery = xo::Delivery::Queued;
		if (!SameConfig(Wanted, AppliedConfig))
		{
			if (!AnyOrderTracked())
			{
				UE_LOG(LogXoTracker, Log, TEXT("Xsolla Order Tracker settings changed: restarting the session with them."));
				ShutdownSession();
			}
			else if (!bReportedPendingSettings)
			{
				UE_LOG(LogXoTracker, Log, TEXT("Xsolla Order Tracker settings changed: they apply once the orders being tracked finish."));
				bReportedPendingSettings = true;
			}
		}
	}
	if (Settings->LogLevel != AppliedLogLevel)
	{
		InstallLogCallback();
	}
	if (!Session.IsSet())
	{
		FString Error;
		if (!Configure(Settings->ToConfig(), Error))
		{
			if (OutError != nullptr)
			{
				*OutError = Error;
			}
			return nullptr;
		}
		bConfiguredFromCode = false;
	}
	return &Session.GetValue();
}

void FXoTrackerModule::AcquireSession(const UXoTrackerSubsystem* User)
{
	Users.AddUnique(User);
}

void FXoTrackerModule::ReleaseSession(const UXoTrackerSubsystem* User)
{
	Users.Remove(User);
	if (Users.Num() == 0)
	{
		// The last game instance is gone (PIE stopped, or the game is quitting): end the session,
		// so the next one starts from the current settings.
		ShutdownSession();
	}
}

bool FXoTrackerModule::AnyOrderTracked() const
{
	for (const UXoTrackerSubsystem* User : Users)
	{
		if (User->HasTrackedOrders())
		{
			return true;
		}
	}
	return false;
}

bool FXoTrackerModule::Configure(xo::Config Config, FString& OutError)
{
	check(IsInGameThread());
	if (!bLibraryReady || bShuttingDown)
	{
		OutError = TEXT("The xo-tracker library is not available (see LogXoTracker).");
		return false;
	}
	if (Session.IsSet())
	{
		OutError = TEXT("The library is already configured: call ShutdownSession first.");
		return false;
	}
	Config.delivery = xo::Delivery::Queued; // this module delivers on the game thread
	xo::Expected<xo::Session> Started = xo::Session::start(Config);
	if (!Started)
	{
		OutError = FString::Printf(TEXT("Cannot configure xo-tracker: %s. Check Project Settings > Plugins > Xsolla Order Tracker."),
			*Describe(Started.error()));
		if (OutError != LastConfigureError)
		{
			UE_LOG(LogXoTracker, Error, TEXT("%s"), *OutError); // once per distinct error, not per call
			LastConfigureError = OutError;
		}
		return false;
	}
	LastConfigureError.Reset();
	Session.Emplace(MoveTemp(*Started));
	AppliedConfig = MoveTemp(Config);
	bConfiguredFromCode = true; // GetSession resets it when it configured from the settings
	bReportedPendingSettings = false;
	// xo_shutdown reset the library's app state to active: hand it the one this module knows.
	if (!bAppActive)
	{
		(void)xo::set_app_active(false);
	}
	InstallLogCallback();
	return true;
}

void FXoTrackerModule::InstallLogCallback()
{
	const EXoLogLevel Level = GetDefault<UXoTrackerSettings>()->LogLevel;
	AppliedLogLevel = Level;
	// LogXoTracker shows Log and above by default: for Debug, also show its Verbose lines.
	if (Level == EXoLogLevel::Debug && LogXoTracker.GetVerbosity() < ELogVerbosity::Verbose)
	{
		LogXoTracker.SetVerbosity(ELogVerbosity::Verbose);
	}
	if (Level == EXoLogLevel::Off)
	{
		(void)xo::clear_log_callback();
		return;
	}
	const xo::LogLevel MaxLevel = Level == EXoLogLevel::Error ? xo::LogLevel::Error
		: Level == EXoLogLevel::Warning ? xo::LogLevel::Warn
		: Level == EXoLogLevel::Info ? xo::LogLevel::Info
		: xo::LogLevel::Debug;
	// Any thread; UE_LOG is thread-safe. Lines never contain tokens.
	(void)xo::set_log_callback([](xo::LogLevel LineLevel, std::string_view Line)
	{
		const FString Text = XoTracker::ToFString(Line);
		switch (LineLevel)
		{
		case xo::LogLevel::Error: UE_LOG(LogXoTracker, Error, TEXT("%s"), *Text); break;
		case xo::LogLevel::Warn: UE_LOG(LogXoTracker, Warning, TEXT("%s"), *Text); break;
		case xo::LogLevel::Info: UE_LOG(LogXoTracker, Log, TEXT("%s"), *Text); break;
		default: UE_LOG(LogXoTracker, Verbose, TEXT("%s"), *Text); break;
		}
	}, MaxLevel);
}

void FXoTrackerModule::ShutdownSession()
{
	if (Session.IsSet())
	{
		const xo::Expected<void> Result = Session->shutdown();
		if (!Result && Result.error().code() == xo::ResultCode::InCallback)
		{
			// Called from an order event handler: the library refuses; the session stays usable.
			UE_LOG(LogXoTracker, Warning, TEXT("ShutdownSession cannot run inside an order event handler; ignored."));
			return;
		}
		if (!Result)
		{
			UE_LOG(LogXoTracker, Warning, TEXT("xo_shutdown: %s"), *Describe(Result.error()));
		}
		Session.Reset();
	}
}

bool FXoTrackerModule::Tick(float /*DeltaTime*/)
{
	if (Session.IsSet())
	{
		const int32 MaxEvents = FMath::Max(1, GetDefault<UXoTrackerSettings>()->MaxEventsPerFrame);
		const xo::Expected<int> Ran = Session->dispatch(static_cast<uint32_t>(MaxEvents));
		if (!Ran)
		{
			UE_LOG(LogXoTracker, Warning, TEXT("xo_dispatch: %s"), *Describe(Ran.error()));
		}
	}
	return true; // keep ticking
}

void FXoTrackerModule::HandleEnterBackground()
{
	bAppActive = false;
	if (bLibraryReady)
	{
		(void)xo::set_app_active(false); // sockets close, polling stops, deadlines freeze
	}
}

void FXoTrackerModule::HandleEnterForeground()
{
	bAppActive = true;
	if (bLibraryReady)
	{
		(void)xo::set_app_active(true); // every tracked order is checked at once, sockets reconnect
	}
}

void FXoTrackerModule::HandleNetworkConnectionChanged(ENetworkConnectionType ConnectionType)
{
	if (ConnectionType != ENetworkConnectionType::None && ConnectionType != ENetworkConnectionType::AirplaneMode)
	{
		NotifyNetworkChanged();
	}
}

void FXoTrackerModule::NotifyNetworkChanged()
{
	if (bLibraryReady)
	{
		(void)xo::network_changed();
	}
}

#undef LOCTEXT_NAMESPACE

IMPLEMENT_MODULE(FXoTrackerModule, XoTracker)

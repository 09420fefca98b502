// Project Settings > Plugins > Xsolla Order Tracker (stored in DefaultGame.ini).
#pragma once

#include "CoreMinimal.h"
#include "Engine/DeveloperSettings.h"

#include "XoTrackerTypes.h"

#include "XoTrackerSettings.generated.h"

/**
 * How the plugin configures the xo-tracker library. Zero values and empty URLs take the library's
 * defaults (Xsolla's production endpoints, 3 s polling, 30 min overall deadline...).
 */
UCLASS(config = Game, defaultconfig, meta = (DisplayName = "Xsolla Order Tracker"))
class XOTRACKER_API UXoTrackerSettings : public UDeveloperSettings
{
	GENERATED_BODY()

public:
	/** Your Xsolla project id (Publisher Account). Required. */
	UPROPERTY(config, EditAnywhere, Category = "Xsolla", meta = (ClampMin = "0"))
	int64 ProjectId = 0;

	UPROPERTY(config, EditAnywhere, Category = "Xsolla")
	EXoTransport Transport = EXoTransport::Centrifugo;

	/** Empty: wss://ws-store.xsolla.com/connection/websocket */
	UPROPERTY(config, EditAnywhere, Category = "Endpoints", AdvancedDisplay)
	FString CentrifugoUrl;

	/** Empty: wss://store-ws.xsolla.com/sub/order/status */
	UPROPERTY(config, EditAnywhere, Category = "Endpoints", AdvancedDisplay)
	FString LegacySocketUrl;

	/** Empty: https://store.xsolla.com/api */
	UPROPERTY(config, EditAnywhere, Category = "Endpoints", AdvancedDisplay)
	FString ApiBaseUrl;

	/** Allows ws:// and http:// to loopback addresses (the xo-sim simulator). Never in shipping builds. */
	UPROPERTY(config, EditAnywhere, Category = "Endpoints", AdvancedDisplay)
	bool bAllowInsecureLoopback = false;

	/**
	 * A proxy for every request and socket: http://, https://, socks5:// or socks5h://
	 * [user:password@]host:port (credentials never appear in logs). Empty: the HTTPS_PROXY,
	 * HTTP_PROXY, ALL_PROXY and NO_PROXY variables, then the Windows/macOS system settings.
	 */
	UPROPERTY(config, EditAnywhere, Category = "Network", AdvancedDisplay)
	FString ProxyUrl;

	/** Extra trusted CA certificates as PEM text (a TLS-inspecting proxy's root). Empty: none. */
	UPROPERTY(config, EditAnywhere, Category = "Network", AdvancedDisplay, meta = (MultiLine = true))
	FString CaBundlePem;

	/** A PEM file of extra trusted CA certificates. Empty: none. */
	UPROPERTY(config, EditAnywhere, Category = "Network", AdvancedDisplay)
	FString CaBundleFile;

	/** Milliseconds between status requests while polling (0: 3000). */
	UPROPERTY(config, EditAnywhere, Category = "Timing", AdvancedDisplay, meta = (ClampMin = "0"))
	int32 PollIntervalMs = 0;

	/** A socket is re-opened after this long without a final status (0: 300000). */
	UPROPERTY(config, EditAnywhere, Category = "Timing", AdvancedDisplay, meta = (ClampMin = "0"))
	int32 SocketReestablishMs = 0;

	/** Polling without a final status ends as timed out after this long (0: 600000). */
	UPROPERTY(config, EditAnywhere, Category = "Timing", AdvancedDisplay, meta = (ClampMin = "0"))
	int32 PollingDeadlineMs = 0;

	/** No tracker lives longer than this (0: 1800000). */
	UPROPERTY(config, EditAnywhere, Category = "Timing", AdvancedDisplay, meta = (ClampMin = "0"))
	int32 OverallDeadlineMs = 0;

	/** How long to wait for UpdateToken after the token was refused (0: 60000). */
	UPROPERTY(config, EditAnywhere, Category = "Timing", AdvancedDisplay, meta = (ClampMin = "0"))
	int32 TokenWaitMs = 0;

	/** Limit for one HTTP request or socket connect (0: 10000). */
	UPROPERTY(config, EditAnywhere, Category = "Timing", AdvancedDisplay, meta = (ClampMin = "0"))
	int32 RequestTimeoutMs = 0;

	/** Smallest reconnect/retry delay (0: 500). */
	UPROPERTY(config, EditAnywhere, Category = "Timing", AdvancedDisplay, meta = (ClampMin = "0"))
	int32 BackoffMinMs = 0;

	/** Largest reconnect/retry delay (0: 20000). */
	UPROPERTY(config, EditAnywhere, Category = "Timing", AdvancedDisplay, meta = (ClampMin = "0"))
	int32 BackoffMaxMs = 0;

	/** The library's worker threads (0: 1). */
	UPROPERTY(config, EditAnywhere, Category = "Advanced", AdvancedDisplay, meta = (ClampMin = "0", ClampMax = "16"))
	int32 WorkerThreads = 0;

	/**
	 * Purchase journal: done orders are delivered again after every launch (ResumePending) until
	 * AcknowledgeOrder, across crashes. Tokens are never written to it.
	 */
	UPROPERTY(config, EditAnywhere, Category = "Journal")
	bool bUseJournal = true;

	/** Empty: <Project>/Saved/XoTracker/Journal. */
	UPROPERTY(config, EditAnywhere, Category = "Journal", AdvancedDisplay)
	FString JournalDir;

	/** Also restore purchases this device never saw from Xsolla's Events API (needs the journal). */
	UPROPERTY(config, EditAnywhere, Category = "Journal")
	bool bRestoreFromXsolla = false;

	/** Empty: https://getupdate.xsolla.com */
	UPROPERTY(config, EditAnywhere, Category = "Journal", AdvancedDisplay)
	FString EventsApiUrl;

	/** Read the Events API again this often after ResumePending (0: only then; else at least 3000). */
	UPROPERTY(config, EditAnywhere, Category = "Journal", AdvancedDisplay, meta = (ClampMin = "0"))
	int32 RestoreIntervalMs = 0;

	/** At most this many events are delivered per frame (the rest wait for the next frame). */
	UPROPERTY(config, EditAnywhere, Category = "Advanced", AdvancedDisplay, meta = (ClampMin = "1"))
	int32 MaxEventsPerFrame = 64;

	/** Library log lines up to this level go to LogXoTracker. They never contain tokens. */
	UPROPERTY(config, EditAnywhere, Category = "Advanced")
	EXoLogLevel LogLevel = EXoLogLevel::Warning;

	virtual FName GetCategoryName() const override;

	/** The library configuration these settings describe (queued delivery: the module pumps it). */
	xo::Config ToConfig() const;
};

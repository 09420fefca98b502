// Stand-in for Misc/CoreDelegates.h: the delegates the plugin uses, with the engine's types.
#pragma once

#include "CoreMinimal.h"
#include "HAL/PlatformMisc.h"

class FCoreDelegates {
public:
    static TMulticastDelegate<void()> ApplicationWillDeactivateDelegate;
    static TMulticastDelegate<void()> ApplicationHasReactivatedDelegate;
    static TMulticastDelegate<void()> ApplicationWillEnterBackgroundDelegate;
    static TMulticastDelegate<void()> ApplicationHasEnteredForegroundDelegate;
    DECLARE_MULTICAST_DELEGATE_OneParam(FOnNetworkConnectionChanged, ENetworkConnectionType /*ConnectionType*/);
    static FOnNetworkConnectionChanged OnNetworkConnectionChanged;
    static FSimpleMulticastDelegate OnPreExit;
};

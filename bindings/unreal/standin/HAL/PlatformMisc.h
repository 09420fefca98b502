// Stand-in for HAL/PlatformMisc.h (GenericPlatformMisc.h).
#pragma once

#include "CoreMinimal.h"

#define DECLARE_MULTICAST_DELEGATE_OneParam(DelegateName, Param1Type) \
    typedef TMulticastDelegate<void(Param1Type)> DelegateName;

enum class ENetworkConnectionType : uint8 {
    Unknown,
    None,
    AirplaneMode,
    Cell,
    WiFi,
    WiMAX,
    Bluetooth,
    Ethernet,
};

// Stand-in for Containers/Ticker.h (UE 5: FTSTicker).
#pragma once

#include "CoreMinimal.h"

class FTickerDelegate {
public:
    template <typename UserClass>
    static FTickerDelegate CreateRaw(UserClass* InUserObject, bool (UserClass::*InFunc)(float));
    template <typename UserClass>
    static FTickerDelegate CreateUObject(UserClass* InUserObject, bool (UserClass::*InFunc)(float));
    static FTickerDelegate CreateLambda(std::function<bool(float)> Lambda);
};

class FTSTicker {
    struct FElement;

public:
    using FDelegateHandle = TWeakPtr<FElement>;
    static FTSTicker& GetCoreTicker();
    FDelegateHandle AddTicker(const FTickerDelegate& InDelegate, float InDelay = 0.0f);
    FDelegateHandle AddTicker(const TCHAR* InName, float InDelay, TFunction<bool(float)> Function);
    static void RemoveTicker(FDelegateHandle Handle);
};

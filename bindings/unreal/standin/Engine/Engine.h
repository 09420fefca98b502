// Stand-in for Engine/Engine.h.
#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

class UWorld;

enum class EGetWorldErrorMode {
    ReturnNull,
    LogAndReturnNull,
    Assert,
};

class UEngine : public UObject {
public:
    UWorld* GetWorldFromContextObject(const UObject* Object, EGetWorldErrorMode ErrorMode) const;
};

extern UEngine* GEngine;

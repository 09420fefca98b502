// Stand-in for Subsystems/Subsystem.h and Subsystems/GameInstanceSubsystem.h.
#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

class FSubsystemCollectionBase;
class UGameInstance;

class USubsystem : public UObject {
public:
    USubsystem();
    virtual bool ShouldCreateSubsystem(UObject* Outer) const;
    virtual void Initialize(FSubsystemCollectionBase& Collection);
    virtual void Deinitialize();
};

class UGameInstanceSubsystem : public USubsystem {
public:
    UGameInstanceSubsystem();
    UGameInstance* GetGameInstance() const;
};

// Stand-in for Engine/GameInstance.h.
#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

class UGameInstanceSubsystem;

class UGameInstance : public UObject {
public:
    template <typename TSubsystemClass>
    TSubsystemClass* GetSubsystem() const {
        static_assert(std::is_base_of<UGameInstanceSubsystem, TSubsystemClass>::value,
                      "GetSubsystem<T>: T must be a UGameInstanceSubsystem");
        return nullptr;
    }
    virtual void Init();
    virtual void Shutdown();
};

// Stand-in for Engine/World.h.
#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

class UGameInstance;

class UWorld : public UObject {
public:
    UGameInstance* GetGameInstance() const;
    template <class T>
    T* GetGameInstance() const;
};

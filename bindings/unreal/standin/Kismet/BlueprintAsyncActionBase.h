// Stand-in for Kismet/BlueprintAsyncActionBase.h.
#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

class UGameInstance;

class UBlueprintAsyncActionBase : public UObject {
public:
    UBlueprintAsyncActionBase(const FObjectInitializer& ObjectInitializer = FObjectInitializer::Get());
    virtual void Activate();
    virtual void RegisterWithGameInstance(const UObject* WorldContextObject);
    virtual void SetReadyToDestroy();

protected:
    virtual void RegisterWithGameInstance(UGameInstance* GameInstance);
    TWeakObjectPtr<UGameInstance> RegisteredWithGameInstance;
};

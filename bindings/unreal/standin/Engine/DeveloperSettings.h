// Stand-in for Engine/DeveloperSettings.h (module "DeveloperSettings").
#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

class UDeveloperSettings : public UObject {
public:
    UDeveloperSettings(const FObjectInitializer& ObjectInitializer = FObjectInitializer::Get());
    virtual FName GetContainerName() const;
    virtual FName GetCategoryName() const;
    virtual FName GetSectionName() const;
};

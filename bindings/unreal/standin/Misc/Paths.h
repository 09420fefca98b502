// Stand-in for Misc/Paths.h.
#pragma once

#include "CoreMinimal.h"

class FPaths {
public:
    template <typename... PathTypes>
    static FString Combine(PathTypes&&... InPaths) {
        static_assert(((std::is_convertible<PathTypes, FString>::value) && ...), "FPaths::Combine takes strings");
        ((void)InPaths, ...);
        return FString();
    }
    static FString GetPath(const FString& InPath);
    static bool FileExists(const FString& InPath);
    static FString ProjectDir();
    static FString ProjectSavedDir();
};

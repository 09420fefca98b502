// Stand-in for UObject/ObjectMacros.h: the reflection markup compiles away; GENERATED_BODY()
// expands to the per-class macro that check.sh generates into <Header>.generated.h, like UHT's.
#pragma once

#include "CoreMinimal.h"

#define UCLASS(...)
#define USTRUCT(...)
#define UENUM(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
#define UPARAM(...)
#define UMETA(...)
#define UINTERFACE(...)

#define STANDIN_BODY_COMBINE_INNER(A, B, C, D) A##B##C##D
#define STANDIN_BODY_COMBINE(A, B, C, D) STANDIN_BODY_COMBINE_INNER(A, B, C, D)
#define GENERATED_BODY(...) STANDIN_BODY_COMBINE(CURRENT_FILE_ID, _, __LINE__, _GENERATED_BODY)

class UClass;
class UScriptStruct;

// Dynamic multicast delegates: Broadcast takes exactly the declared parameters.
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE(DelegateName) \
    class DelegateName {                                 \
    public:                                              \
        void Broadcast() const;                          \
        bool IsBound() const;                            \
        void Clear();                                    \
    };
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(DelegateName, Param1Type, Param1Name) \
    class DelegateName {                                                                  \
    public:                                                                               \
        void Broadcast(Param1Type Param1Name) const;                                      \
        bool IsBound() const;                                                             \
        void Clear();                                                                     \
    };
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(DelegateName, Param1Type, Param1Name, Param2Type, Param2Name) \
    class DelegateName {                                                                                           \
    public:                                                                                                        \
        void Broadcast(Param1Type Param1Name, Param2Type Param2Name) const;                                        \
        bool IsBound() const;                                                                                      \
        void Clear();                                                                                              \
    };

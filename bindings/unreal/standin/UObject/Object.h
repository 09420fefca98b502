// Stand-in for UObject/Object.h and friends: UObject, creation, defaults, weak pointers.
#pragma once

#include "CoreMinimal.h"
#include "UObject/ObjectMacros.h"

class UWorld;
class UPackage;

class FObjectInitializer {
public:
    static const FObjectInitializer& Get();
};

class UObjectBase {
public:
    virtual ~UObjectBase();
};

class UObject : public UObjectBase {
public:
    UObject();
    virtual void BeginDestroy();
    virtual void PostInitProperties();
    virtual UWorld* GetWorld() const;
    FName GetFName() const;
    bool IsValidLowLevel() const;
};

UPackage* GetTransientPackage();

template <class T>
T* NewObject(UObject* Outer = nullptr);

template <class T>
const T* GetDefault();

template <class T>
T* GetMutableDefault();

bool IsValid(const UObject* Test);

template <class T>
class TWeakObjectPtr {
public:
    TWeakObjectPtr();
    TWeakObjectPtr(const T* Object);
    template <class U, class = typename std::enable_if<std::is_convertible<U*, T*>::value>::type>
    TWeakObjectPtr(const TWeakObjectPtr<U>& Other);
    TWeakObjectPtr& operator=(const T* Object);
    T* Get() const;
    bool IsValid() const;
    void Reset();
};

template <class T>
class TObjectPtr {
public:
    TObjectPtr();
    TObjectPtr(T* Object);
    T* Get() const;
    T* operator->() const;
    operator T*() const;
};

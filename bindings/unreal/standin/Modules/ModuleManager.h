// Stand-in for Modules/ModuleManager.h and Modules/ModuleInterface.h.
#pragma once

#include "CoreMinimal.h"

class IModuleInterface {
public:
    virtual ~IModuleInterface();
    virtual void StartupModule();
    virtual void PreUnloadCallback();
    virtual void PostLoadCallback();
    virtual void ShutdownModule();
    virtual bool SupportsDynamicReloading();
    virtual bool SupportsAutomaticShutdown();
    virtual bool IsGameModule() const;
};

class FModuleManager {
public:
    static FModuleManager& Get();
    bool IsModuleLoaded(const FName InModuleName) const;
    template <typename TModuleInterface>
    static TModuleInterface& LoadModuleChecked(const FName InModuleName);
    template <typename TModuleInterface>
    static TModuleInterface* GetModulePtr(const FName ModuleName);
};

#define IMPLEMENT_MODULE(ModuleImplClass, ModuleName)                   \
    extern "C" IModuleInterface* InitializeModule_##ModuleName() {      \
        return new ModuleImplClass();                                   \
    }
